//! Shell completion scripts: clap_complete's, fixed where our `noun:verb` command names and the
//! hyphen in the program's name break them.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

pub const BIN: &str = "setops-migrate";

pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    let text = String::from_utf8_lossy(&script).into_owned();
    let fixed = match shell {
        Shell::Bash => bash(&text),
        Shell::Zsh => zsh(&text, &colon_names(&Cli::command())),
        _ => text,
    };
    fixed.into_bytes()
}

/// Every command name with a ':' in it, at any depth.
fn colon_names(command: &clap::Command) -> Vec<String> {
    let mut names = Vec::new();
    for sub in command.get_subcommands() {
        if sub.get_name().contains(':') {
            names.push(sub.get_name().to_owned());
        }
        names.extend(colon_names(sub));
    }
    names
}

/// The name clap_complete gives the completion function of `setops-migrate`.
fn function_name() -> String {
    format!("_{}", BIN.replace('-', "__"))
}

/// Bash splits words at ':' (COMP_WORDBREAKS), so `backup:download` reaches a completion
/// function as `backup`, `:`, `download`: clap's script then knows no command, offers nothing for
/// `backup:d` and appends a whole name to `changeset:`. Its own function becomes the inner one;
/// the wrapper below joins such words again before calling it, and hands back only the part of
/// each answer after the word's last ':', which is the part bash replaces. Also fixes
/// clap_complete's case labels, which spell a hyphenated program name differently from the
/// loop that sets `cmd` (so no subcommand option was ever completed).
fn bash(script: &str) -> String {
    let outer = function_name();
    let inner = format!("{outer}__joined");
    let mangled = format!("{}__subcmd__", BIN.replace('-', "__subcmd__"));
    let plain = format!("{}__subcmd__", BIN.replace('-', "__"));
    let fixed = script
        .replacen(&format!("{outer}() {{"), &format!("{inner}() {{"), 1)
        .replace(&mangled, &plain);
    format!(
        "{fixed}\n{}",
        BASH_WRAPPER
            .replace("OUTER", &outer)
            .replace("INNER", &inner)
    )
}

/// Written for bash 3.2 too (macOS): no negative array indices, no `${var@Q}`.
const BASH_WRAPPER: &str = r#"# Bash splits `backup:download` at the ':' (COMP_WORDBREAKS); join the pieces again, complete the
# joined word, and hand back only what follows its last ':' (the part bash replaces).
OUTER() {
    local line="${COMP_LINE:0:COMP_POINT}" word i n
    local -a words=()
    for (( i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++ )); do
        word="${COMP_WORDS[i]}"
        n=${#words[@]}
        if [[ "$line" == [[:space:]]* ]]; then
            line="${line#"${line%%[![:space:]]*}"}"
            words+=("$word")
        elif (( n > 0 )) && [[ "$word" == :* || "${words[n-1]}" == *: ]]; then
            words[n-1]="${words[n-1]}$word"
        else
            words+=("$word")
        fi
        line="${line#"$word"}"
    done
    local cword=$(( ${#words[@]} - 1 ))
    local cur="${words[cword]}" prev=""
    (( cword > 0 )) && prev="${words[cword-1]}"
    local -a COMP_WORDS=("${words[@]}")
    local COMP_CWORD=$cword
    INNER "$1" "$cur" "$prev"
    if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
        local prefix="${cur%"${cur##*:}"}"
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]="${COMPREPLY[i]#"$prefix"}"
        done
    fi
    return 0
}
"#;

/// zsh's `_describe` reads `name:description` and splits at the first unescaped ':', so
/// `backup:download` was offered as `backup`; escape the colons of the names.
fn zsh(script: &str, names: &[String]) -> String {
    script
        .lines()
        .map(|line| {
            let named = names
                .iter()
                .find(|name| line.starts_with(&format!("'{name}:")));
            match named {
                Some(name) => format!("'{}{}", name.replace(':', "\\:"), &line[name.len() + 1..]),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    fn text(shell: Shell) -> String {
        String::from_utf8(script(shell)).unwrap()
    }

    #[test]
    fn every_shell_gets_a_script_that_knows_the_commands() {
        for shell in Shell::value_variants() {
            let script = text(*shell);
            assert!(script.contains("setops-migrate"), "{shell}");
            assert!(
                script.contains("wizard"),
                "{shell} lacks the wizard command"
            );
            assert!(script.contains("backup"), "{shell} lacks backup:download");
        }
    }

    #[test]
    fn bash_case_labels_match_the_command_the_loop_finds() {
        let script = text(Shell::Bash);
        assert!(!script.contains("setops__subcmd__migrate"), "{script}");
        assert!(script.contains("cmd=\"setops__migrate__subcmd__backup:download\""));
        assert!(script.contains("\n        setops__migrate__subcmd__backup:download)\n"));
        // The wrapper is the function bash calls; clap's is called by it.
        assert!(script.contains("_setops__migrate__joined() {"));
        assert!(script.contains("\n_setops__migrate() {"));
        assert!(script.contains("complete -F _setops__migrate "));
    }

    #[test]
    fn zsh_names_escape_their_colons() {
        let script = text(Shell::Zsh);
        assert!(
            script.contains("'backup\\:download:Download a backup"),
            "{script}"
        );
        assert!(script.contains("'service:List the services"), "{script}");
        assert!(!script.contains("'backup:download:"), "{script}");
    }
}
