# bash completion for egressctl                                       -*- shell-script -*-
# Commands, options and option values; node names for candidacy/handover come from
# `egressctl status -o json` against the endpoints already on the command line.

_egressctl_nodes() {
  local args=() i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case ${COMP_WORDS[i]} in
      --endpoint | --tls-dir | --timeout) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
      --endpoint=* | --tls-dir=* | --timeout=*) args+=("${COMP_WORDS[i]}") ;;
    esac
  done
  egressctl "${args[@]}" --timeout 1s status -o json 2>/dev/null |
    grep -o '"name": *"[a-z0-9-]*"' | sed 's/.*"\([a-z0-9-]*\)"$/\1/'
}

_egressctl() {
  local cur prev words cword
  _init_completion || return

  case $prev in
    --endpoint | --timeout | --since) return ;;
    --tls-dir) _filedir -d; return ;;
    --output)
      # allowlist export writes a file; status/events/drift take a format.
      if [[ " ${words[*]} " == *" export "* ]]; then _filedir; else COMPREPLY=($(compgen -W "table json" -- "$cur")); fi
      return ;;
    -o) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
    --format)
      if [[ " ${words[*]} " == *" drift "* ]]; then COMPREPLY=($(compgen -W "auto csv txt" -- "$cur"))
      else COMPREPLY=($(compgen -W "csv txt json" -- "$cur")); fi
      return ;;
    --allowlist) _filedir; return ;;
    --to) COMPREPLY=($(compgen -W "$(_egressctl_nodes)" -- "$cur")); return ;;
  esac

  # The command is the first word that is not an option or an option's value.
  local i cmd="" sub=""
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --endpoint | --tls-dir | --timeout) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=${words[i]}; elif [[ -z $sub ]]; then sub=${words[i]}; fi ;;
    esac
  done

  case $cmd in
    "")
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--endpoint --tls-dir --timeout --version --help" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "status events allowlist drift candidacy handover" -- "$cur"))
      fi ;;
    status) COMPREPLY=($(compgen -W "-o --output --help" -- "$cur")) ;;
    events) COMPREPLY=($(compgen -W "--since -f --follow -o --output --help" -- "$cur")) ;;
    allowlist)
      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "export" -- "$cur"))
      else COMPREPLY=($(compgen -W "--format --output --help" -- "$cur")); fi ;;
    drift) COMPREPLY=($(compgen -W "--allowlist --format -o --output --skip-bad-rows --help" -- "$cur")) ;;
    candidacy)
      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--force --help" -- "$cur"))
      elif [[ -z $sub ]]; then COMPREPLY=($(compgen -W "enable disable" -- "$cur"))
      else COMPREPLY=($(compgen -W "$(_egressctl_nodes)" -- "$cur")); fi ;;
    handover) COMPREPLY=($(compgen -W "--to --help" -- "$cur")) ;;
  esac
} && complete -F _egressctl egressctl
