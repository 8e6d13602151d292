#compdef task
# zsh completion for `task` (oxtask; also go-task 3.54). Load with:
#   source <(task --completion zsh)      (or save as _task in a directory on $fpath)
# Candidates come from `task __complete WORDS...`: one per line (`value` or
# `value<TAB>description`), then `:N`, N a bitfield: 2 no trailing space, 4 no file
# fallback, 8 the lines are file extensions, 16 directories only, 32 keep the order.
# TASK_EXE names the executable to ask (default: task).

_task() {
  local exe=${TASK_EXE:-task}
  local -a args lines vals shown copts
  local out line value desc directive
  args=("${(@)words[2,CURRENT]}")
  out=$("$exe" __complete "${args[@]}" 2>/dev/null)
  if [[ -z $out ]]; then
    _files
    return
  fi
  lines=("${(@f)out}")
  directive=${lines[-1]#:}
  [[ $directive == <-> ]] || directive=0
  lines=("${(@)lines[1,-2]}")

  if (( directive & 8 )); then
    _files -g "*.(${(j:|:)lines})"
    return
  fi
  if (( directive & 16 )); then
    _files -/
    return
  fi

  for line in "${lines[@]}"; do
    value=${line%%$'\t'*}
    desc=""
    [[ $line == *$'\t'* ]] && desc=${line#*$'\t'}
    vals+=("$value")
    if [[ -n $desc ]]; then
      shown+=("$value  -- $desc")
    else
      shown+=("$value")
    fi
  done
  copts=(-l -d shown)
  (( directive & 2 )) && copts+=(-S '')
  if (( directive & 32 )); then
    copts+=(-V task-ordered)
  else
    copts+=(-J task)
  fi
  compadd "${copts[@]}" -a vals
  if (( ${#vals} == 0 )) && ! (( directive & 4 )); then
    _files
  fi
}

if [[ ${funcstack[1]} == _task ]]; then
  _task "$@"
else
  compdef _task task
fi
