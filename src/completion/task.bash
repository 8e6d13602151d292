# bash completion for `task` (oxtask; also go-task 3.54). Load with:
#   source <(task --completion bash)
# Candidates come from `task __complete WORDS...`: one per line (`value` or
# `value<TAB>description`), then `:N`, N a bitfield: 2 no trailing space, 4 no file
# fallback, 8 the lines are file extensions, 16 directories only, 32 keep the order.
# TASK_EXE names the executable to ask (default: task). Works with or without the
# bash-completion package.

# Puts back together the words bash cut at ':' and '=' (COMP_WORDBREAKS), so
# `docs:serve` and `--output=group` reach `task __complete` as one word each.
__task_join_words() {
  local rest="${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}"
  local i w glued trimmed
  __task_words=()
  for ((i = 0; i <= COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    glued=0
    if [[ -n "$COMP_LINE" ]]; then
      trimmed="${rest#"${rest%%[![:space:]]*}"}"
      if ((i > 0)) && [[ "$trimmed" == "$rest" ]]; then
        glued=1
      fi
      rest="${trimmed#"$w"}"
    elif ((i > 0)); then
      # No COMP_LINE to look at: a break character always sits between glued parts.
      [[ "$w" == [:=]* || "${COMP_WORDS[i-1]}" == *[:=] ]] && glued=1
    fi
    if ((glued)) && [[ "$w" =~ ^[:=]+$ || "${__task_words[${#__task_words[@]}-1]}" =~ [:=]$ ]]; then
      __task_words[${#__task_words[@]}-1]+="$w"
    else
      __task_words+=("$w")
    fi
  done
}

__task_files() {
  # $1: "dirs", or a `|`-separated list of extensions to keep ("" keeps every file).
  local word="$1" filter="$2" f
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  if [[ "$filter" == dirs ]]; then
    COMPREPLY=($(compgen -d -- "$word"))
    return
  fi
  COMPREPLY=()
  for f in $(compgen -f -- "$word"); do
    if [[ -z "$filter" || -d "$f" || "|$filter|" == *"|${f##*.}|"* ]]; then
      COMPREPLY+=("$f")
    fi
  done
}

_task() {
  local exe="${TASK_EXE:-task}"
  local -a __task_words
  __task_join_words
  local cur="${__task_words[${#__task_words[@]}-1]}"
  local bashcur="${COMP_WORDS[COMP_CWORD]}"
  local -a args=("${__task_words[@]:1}")
  ((${#args[@]})) || args=("")

  local out
  out="$("$exe" __complete "${args[@]}" 2>/dev/null)"
  # A path after `--flag=`: complete the part after `=`.
  local path="$bashcur"
  [[ "$bashcur" == -*=* ]] && path="${bashcur#*=}"
  if [[ -z "$out" ]]; then
    __task_files "$path" ""
    return 0
  fi

  local -a lines=()
  local line
  while IFS= read -r line; do
    lines+=("$line")
  done <<<"$out"
  local directive="${lines[${#lines[@]}-1]#:}"
  [[ "$directive" =~ ^[0-9]+$ ]] || directive=0
  unset 'lines[${#lines[@]}-1]'

  if ((directive & 8)); then
    local exts=""
    for line in "${lines[@]}"; do exts+="${exts:+|}$line"; done
    __task_files "$path" "$exts"
    return 0
  fi
  if ((directive & 16)); then
    __task_files "$path" dirs
    return 0
  fi

  # Bash replaces only its own (shorter) word: drop what it already has before it.
  local keep="${cur:0:${#cur}-${#bashcur}}"
  local value
  COMPREPLY=()
  for line in "${lines[@]}"; do
    value="${line%%$'\t'*}"
    [[ "$value" == "$cur"* ]] || continue
    COMPREPLY+=("${value#"$keep"}")
  done
  ((directive & 2)) && compopt -o nospace 2>/dev/null
  ((directive & 32)) && compopt -o nosort 2>/dev/null
  if ((${#COMPREPLY[@]} == 0)) && ! ((directive & 4)); then
    __task_files "$path" ""
  fi
  return 0
}

complete -F _task task
