# fish completion for `task` (oxtask; also go-task 3.54). Load with:
#   task --completion fish | source
# Candidates come from `task __complete WORDS...`: one per line (`value` or
# `value<TAB>description`, fish's own format), then `:N`, N a bitfield: 2 no trailing
# space, 4 no file fallback, 8 the lines are file extensions, 16 directories only,
# 32 keep the order. TASK_EXE names the executable to ask (default: task).

function __task_complete
    set -l exe task
    if set -q TASK_EXE; and test -n "$TASK_EXE"
        set exe $TASK_EXE
    end
    set -l before (commandline -opc)
    set -l args $before[2..-1] (commandline -ct)
    set -l out ($exe __complete $args 2>/dev/null)
    set -l token (commandline -ct)
    set -l path (string replace -r -- '^-[^=]*=' '' $token)
    if test (count $out) -eq 0
        __fish_complete_path $path
        return
    end
    set -l directive (string replace -- ':' '' $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or set directive 0
    set -e out[-1]
    if test (math "bitand($directive, 8)") -ne 0
        for ext in $out
            __fish_complete_suffix .$ext
        end
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories $path
        return
    end
    printf '%s\n' $out
    if test (count $out) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path $path
    end
end

complete -c task -e
complete -c task -f -k -a '(__task_complete)'
