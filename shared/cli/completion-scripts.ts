// The scripts `kubectl vm completion bash|zsh|fish` prints. They complete the router `kubectl-vm` when it is run
// directly, by asking it (`kubectl-vm __complete <words…> <current word>`) exactly as kubectl asks the
// kubectl_complete-vm hook; `kubectl vm <TAB>` itself goes through kubectl's own completion and that hook.

export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

const BASH = `# bash completion for kubectl-vm (kubectl vm). Load it with:
#   source <(kubectl vm completion bash)
_kubectl_vm() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive line
  out="$(kubectl-vm __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)" || return 0
  directive="\${out##*:}"
  COMPREPLY=()
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == :* ]] && continue
    COMPREPLY+=("\${line%%$'\\t'*}")
  done <<< "$out"
  if (( directive & 4 )); then compopt +o default 2>/dev/null; fi
  if (( directive & 16 )); then compopt -o dirnames 2>/dev/null; fi
  if (( directive & 2 )); then compopt -o nospace 2>/dev/null; fi
  return 0
}
complete -o default -F _kubectl_vm kubectl-vm
`;

const ZSH = `#compdef kubectl-vm
# zsh completion for kubectl-vm (kubectl vm). Load it with:
#   source <(kubectl vm completion zsh)      (after compinit)
_kubectl_vm() {
  local -a completions
  local out directive line
  out="$(kubectl-vm __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)" || return 1
  directive="\${out##*:}"
  for line in "\${(@f)out}"; do
    [[ -z "$line" || "$line" == :* ]] && continue
    completions+=("\${line/$'\\t'/:}")
  done
  if (( \${#completions} )); then
    _describe 'kubectl vm' completions
  elif (( directive & 16 )); then
    _path_files -/
  elif ! (( directive & 4 )); then
    _files
  fi
}
compdef _kubectl_vm kubectl-vm
`;

const FISH = `# fish completion for kubectl-vm (kubectl vm). Load it with:
#   kubectl vm completion fish | source
function __kubectl_vm_complete
    set -l args (commandline -opc)
    set -e args[1]
    kubectl-vm __complete $args (commandline -ct) 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-vm -f -a '(__kubectl_vm_complete)'
`;

export const completionScript = (shell: Shell): string => ({ bash: BASH, zsh: ZSH, fish: FISH })[shell];
