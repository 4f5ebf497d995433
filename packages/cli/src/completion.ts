import { Argument, type Command, type Option } from "commander";
import { type Cli, examples } from "./cli.ts";

interface Node {
  path: string;
  subs: Array<{ name: string; description: string }>;
  options: Option[];
}

/** Every command path with its visible subcommands and options (globals included), read from commander. */
function walk(program: Command): Node[] {
  const help = program.createHelp();
  const nodes: Node[] = [];
  const visit = (cmd: Command, path: string, globals: Option[]) => {
    const own = help.visibleOptions(cmd);
    const options = [...own, ...globals.filter((g) => !own.some((o) => o.long === g.long))];
    const subs = help
      .visibleCommands(cmd)
      .map((c) => ({ name: c.name(), description: c.description().split("\n")[0] ?? "" }));
    nodes.push({ path, subs, options });
    // The root's options reach every command, except --version (it only answers at the root).
    const inherited = cmd.parent ? globals : own.filter((o) => o.long !== "--version");
    for (const c of cmd.commands) visit(c, path ? `${path} ${c.name()}` : c.name(), inherited);
  };
  visit(program, "", []);
  return nodes;
}

const takesValue = (o: Option) => o.required || o.optional;
const flags = (o: Option) => [o.short, o.long].filter((f): f is string => !!f);
const sq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** The case tables bash and zsh share: subcommands, options and option values per command path. */
function caseTables(nodes: Node[], prefix: string): string {
  const table = (name: string, rows: Array<[string, string]>) =>
    `${prefix}_${name}() {\n  case "$1" in\n${rows.map(([k, v]) => `    ${sq(k)}) echo ${sq(v)} ;;\n`).join("")}  esac\n}\n`;
  const choices: Array<[string, string]> = [];
  for (const n of nodes)
    for (const o of n.options)
      if (o.argChoices) for (const f of flags(o)) choices.push([`${n.path}|${f}`, o.argChoices.join(" ")]);
  return [
    table(
      "subs",
      nodes.filter((n) => n.subs.length).map((n) => [n.path, n.subs.map((s) => s.name).join(" ")]),
    ),
    table(
      "opts",
      nodes.map((n) => [n.path, n.options.flatMap(flags).join(" ")]),
    ),
    table(
      "valued",
      nodes.map((n) => [n.path, n.options.filter(takesValue).flatMap(flags).join(" ")]),
    ),
    table("choices", choices),
  ].join("\n");
}

/** bash: `source <(platform completion bash)`. */
export function bashCompletion(program: Command): string {
  return `# bash completion for platform (generated from its commands by \`platform completion bash\`)
${caseTables(walk(program), "_platform")}
# COMPREPLY from the words in $1 that start with $2; read -a, not mapfile: macOS ships bash 3.2.
_platform_reply() {
  COMPREPLY=()
  IFS=$'\\n' read -r -d '' -a COMPREPLY < <(compgen -W "$1" -- "$2")
  return 0
}
_platform_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmdpath="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    [[ " $(_platform_subs "$cmdpath") " == *" $w "* ]] && cmdpath=\${cmdpath:+$cmdpath }$w
  done
  local values
  values=$(_platform_choices "$cmdpath|$prev")
  if [[ -n $values ]]; then
    _platform_reply "$values" "$cur"
    return
  fi
  # An option's value (a path, a name): let bash complete file names.
  [[ " $(_platform_valued "$cmdpath") " == *" $prev "* ]] && return
  if [[ $cur == -* ]]; then
    _platform_reply "$(_platform_opts "$cmdpath")" "$cur"
  else
    _platform_reply "$(_platform_subs "$cmdpath")" "$cur"
  fi
}
complete -o default -F _platform_complete platform
`;
}

/** zsh: `source <(platform completion zsh)` (or save it as _platform on $fpath). */
export function zshCompletion(program: Command): string {
  return `#compdef platform
# zsh completion for platform (generated from its commands by \`platform completion zsh\`)
${caseTables(walk(program), "_platform")}
_platform() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} cmdpath="" w i values
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    [[ $w == -* ]] && continue
    [[ " $(_platform_subs "$cmdpath") " == *" $w "* ]] && cmdpath=\${cmdpath:+$cmdpath }$w
  done
  values=$(_platform_choices "$cmdpath|$prev")
  if [[ -n $values ]]; then compadd -- \${=values}; return; fi
  if [[ " $(_platform_valued "$cmdpath") " == *" $prev "* ]]; then _files; return; fi
  if [[ $cur == -* ]]; then compadd -- \${=$(_platform_opts "$cmdpath")}; return; fi
  values=$(_platform_subs "$cmdpath")
  if [[ -n $values ]]; then compadd -- \${=values}; else _files; fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _platform "$@"; else compdef _platform platform; fi
`;
}

/** fish: `platform completion fish > ~/.config/fish/completions/platform.fish`. */
export function fishCompletion(program: Command): string {
  const nodes = walk(program);
  const fq = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const lines = [
    "# fish completion for platform (generated from its commands by `platform completion fish`)",
    "function __platform_subs",
    "    switch $argv[1]",
    ...nodes
      .filter((n) => n.subs.length)
      .flatMap((n) => [
        `        case ${fq(`platform${n.path ? ` ${n.path}` : ""}`)}`,
        `            printf '%s\\n' ${n.subs.map((s) => fq(s.name)).join(" ")}`,
      ]),
    "    end",
    "end",
    "function __platform_path",
    "    set -l path platform",
    "    for t in (commandline -opc)[2..-1]",
    "        string match -q -- '-*' $t; and continue",
    '        contains -- $t (__platform_subs "$path"); and set path "$path $t"',
    "    end",
    "    echo $path",
    "end",
    "function __platform_at",
    '    test (__platform_path) = "$argv[1]"',
    "end",
    "complete -c platform -e",
  ];
  for (const n of nodes) {
    const at = `-n ${fq(`__platform_at ${fq(`platform${n.path ? ` ${n.path}` : ""}`)}`)}`;
    for (const s of n.subs)
      lines.push(`complete -c platform -f ${at} -a ${fq(s.name)} -d ${fq(s.description)}`);
    for (const o of n.options) {
      const names = [o.short ? `-s ${o.short.slice(1)}` : "", o.long ? `-l ${o.long.slice(2)}` : ""].filter(
        Boolean,
      );
      const value = o.argChoices ? `-x -a ${fq(o.argChoices.join(" "))}` : takesValue(o) ? "-r -F" : "";
      lines.push(
        `complete -c platform ${at} ${names.join(" ")} ${value} -d ${fq(o.description)}`.replace(/ +/g, " "),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Registers `platform completion bash|zsh|fish`. */
export function registerCompletion(program: Command, cli: Cli): void {
  const cmd = program
    .command("completion")
    .description("print a shell completion script (generated from the commands, so it never lags behind)")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish"]));
  examples(
    cmd,
    "$ source <(platform completion bash)                     # in ~/.bashrc",
    "$ source <(platform completion zsh)                      # in ~/.zshrc",
    "$ platform completion fish > ~/.config/fish/completions/platform.fish",
  );
  cmd.action((shell: string) => {
    const scripts: Record<string, (p: Command) => string> = {
      bash: bashCompletion,
      zsh: zshCompletion,
      fish: fishCompletion,
    };
    cli.out(scripts[shell]!(program));
    cli.done(0);
  });
}
