//! go-task's command-line flags (3.54).

use clap::{ArgAction, Parser};
use std::path::PathBuf;

/// The go-task version whose behaviour we follow (reported by `{{.TASK_VERSION}}`).
pub const TASK_VERSION: &str = "3.54.0";

#[derive(Parser, Debug, Default, Clone)]
#[command(
    name = "task",
    disable_version_flag = true,
    disable_help_flag = true,
    about = "Runs the specified task(s). Falls back to the \"default\" task if no task name was specified, or lists all tasks if an unknown task name was specified.",
    override_usage = "task [flags...] [task...]"
)]
pub struct Cli {
    /// Task names and VAR=value assignments; everything after `--` is CLI_ARGS.
    #[arg(value_name = "TASK", num_args = 0.., trailing_var_arg = false)]
    pub args: Vec<String>,
    #[arg(last = true, hide = true)]
    pub cli_args: Vec<String>,

    #[arg(short = 'c', long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, value_parser = clap::builder::BoolishValueParser::new(), default_missing_value = "true", help = "Colored output. Enabled by default. Set flag to false or use NO_COLOR=1 to disable.")]
    pub color: bool,
    /// Colour set by the flag, `TASK_COLOR` or the taskrc (then no auto-detection).
    #[arg(skip)]
    pub color_explicit: bool,
    #[arg(
        long,
        value_name = "SHELL",
        help = "Generates shell completion script."
    )]
    pub completion: Option<String>,
    #[arg(
        short = 'C',
        long,
        default_value_t = 0,
        help = "Limit number of tasks to run concurrently."
    )]
    pub concurrency: usize,
    #[arg(
        short = 'd',
        long,
        help = "Sets the directory in which Task will execute and look for a Taskfile."
    )]
    pub dir: Option<PathBuf>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Disables fuzzy matching for task names.")]
    pub disable_fuzzy: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Downloads a cached version of a remote Taskfile.")]
    pub download: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long)]
    pub clear_cache: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'n',
        long,
        help = "Compiles and prints tasks in the order that they would be run, without executing them."
    )]
    pub dry: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'x',
        long,
        help = "Pass-through the exit code of the task command."
    )]
    pub exit_code: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        long,
        help = "Lists all the available experiments and whether or not they are enabled."
    )]
    pub experiments: bool,
    #[arg(
        long,
        value_name = "DURATION",
        help = "Expiry duration for cached remote Taskfiles."
    )]
    pub expiry: Option<String>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'F',
        long,
        help = "When running tasks in parallel, stop all tasks if one fails."
    )]
    pub failfast: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'f',
        long,
        help = "Forces execution even when the task is up-to-date."
    )]
    pub force: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        long,
        help = "Forces execution of the called task and all its dependant tasks (with TASK_X_GENTLE_FORCE)."
    )]
    pub force_all: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'g',
        long,
        help = "Runs global Taskfile, from $HOME/{T,t}askfile.{yml,yaml}."
    )]
    pub global: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 'h', long, help = "Shows Task usage.")]
    pub help: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'i',
        long,
        help = "Creates a new Taskfile.yml in the current folder."
    )]
    pub init: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        long,
        help = "Forces Task to download Taskfiles over insecure connections."
    )]
    pub insecure: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Prompt for missing required variables.")]
    pub interactive: bool,
    #[arg(
        short = 'I',
        long,
        value_name = "DURATION",
        help = "Interval to watch for changes."
    )]
    pub interval: Option<String>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 'j', long, help = "Formats task list as JSON.")]
    pub json: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'l',
        long,
        help = "Lists tasks with description of current Taskfile."
    )]
    pub list: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 'a', long, help = "Lists tasks with or without a description.")]
    pub list_all: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Nest namespaces when listing tasks as JSON")]
    pub nested: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Ignore status when listing tasks as JSON")]
    pub no_status: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Forces Task to only use local or cached Taskfiles.")]
    pub offline: bool,
    #[arg(
        short = 'o',
        long,
        value_name = "STYLE",
        help = "Sets output style: [interleaved|group|prefixed]."
    )]
    pub output: Option<String>,
    #[arg(
        long,
        help = "Message template to print before a task's grouped output."
    )]
    pub output_group_begin: Option<String>,
    #[arg(
        long,
        help = "Message template to print after a task's grouped output."
    )]
    pub output_group_end: Option<String>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Swallow output from successful tasks.")]
    pub output_group_error_only: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        short = 'p',
        long,
        help = "Executes tasks provided on command line in parallel."
    )]
    pub parallel: bool,
    #[arg(long, help = "Directory to cache remote Taskfiles.")]
    pub remote_cache_dir: Option<PathBuf>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 's', long, help = "Disables echoing.")]
    pub silent: bool,
    #[arg(
        long,
        value_name = "SORT",
        help = "Changes the order of the tasks when listed. [default|alphanumeric|none]."
    )]
    pub sort: Option<String>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), 
        long,
        help = "Exits with non-zero exit code if any of the given tasks is not up-to-date."
    )]
    pub status: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Show summary about a task.")]
    pub summary: bool,
    #[arg(
        short = 't',
        long,
        help = "Choose which Taskfile to run. Defaults to \"Taskfile.yml\"."
    )]
    pub taskfile: Option<PathBuf>,
    #[arg(
        long,
        help = "Directory for temporary files (default: .task next to the root Taskfile)."
    )]
    pub temp_dir: Option<PathBuf>,
    #[arg(
        long,
        value_name = "DURATION",
        help = "Timeout for downloading remote Taskfiles."
    )]
    pub timeout: Option<String>,
    #[arg(
        long,
        value_delimiter = ',',
        help = "List of trusted hosts for remote Taskfiles (comma-separated)."
    )]
    pub trusted_hosts: Vec<String>,
    #[arg(long, help = "Custom CA certificate for TLS connections.")]
    pub cacert: Option<PathBuf>,
    #[arg(long, help = "Client certificate for mTLS.")]
    pub cert: Option<PathBuf>,
    #[arg(long, help = "Client certificate private key.")]
    pub cert_key: Option<PathBuf>,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 'v', long, help = "Enables verbose mode.")]
    pub verbose: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, help = "Show Task version.")]
    pub version: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 'w', long, help = "Enables watch of the given task.")]
    pub watch: bool,
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), short = 'y', long, help = "Assume \"yes\" as answer to all prompts.")]
    pub yes: bool,

    // oxtask's own flags (docs/cache.md), kept out of go-task's usage text.
    /// `--cache URL` / `OXTASK_CACHE`: file://DIR, oci://HOST/REPO, grpc[s]://HOST:PORT[/INSTANCE].
    #[arg(long, value_name = "URL", hide = true)]
    pub cache: Option<String>,
    /// `--cache-mode read|readwrite` / `OXTASK_CACHE_MODE`.
    #[arg(long, value_name = "MODE", hide = true)]
    pub cache_mode: Option<String>,
    /// cosign public key: only entries it verifies are restored (`OXTASK_CACHE_VERIFY_KEY`).
    #[arg(long, value_name = "KEY", hide = true)]
    pub cache_verify_key: Option<String>,
    /// cosign private key signing every stored entry (`OXTASK_CACHE_SIGN_KEY`).
    #[arg(long, value_name = "KEY", hide = true)]
    pub cache_sign_key: Option<String>,
    /// Plain HTTP to the OCI cache registry (`OXTASK_CACHE_PLAIN_HTTP`).
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, hide = true)]
    pub cache_plain_http: bool,
    /// Bound of each cache call before the cache is switched off (`OXTASK_CACHE_TIMEOUT`, 1.5s).
    #[arg(long, value_name = "DURATION", hide = true)]
    pub cache_timeout: Option<String>,
    /// file:// only: prune least recently used entries above this size (`OXTASK_CACHE_MAX_SIZE`).
    #[arg(long, value_name = "SIZE", hide = true)]
    pub cache_max_size: Option<String>,
    /// The task definition joins the local up-to-date check (`OXTASK_FINGERPRINT_DEFINITION`).
    #[arg(action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new(), long, hide = true)]
    pub fingerprint_definition: bool,
}

impl Cli {
    /// Splits positional args into task names and `VAR=value` assignments.
    pub fn tasks_and_vars(&self) -> (Vec<String>, Vec<(String, String)>) {
        let mut tasks = vec![];
        let mut vars = vec![];
        for a in &self.args {
            // go-task: any argument holding `=` is a variable, whatever stands before it.
            match a.split_once('=') {
                Some((k, v)) => vars.push((k.to_string(), v.to_string())),
                None => tasks.push(a.clone()),
            }
        }
        (tasks, vars)
    }
}

/// (short, long, value type, help, default) — the flag table `--help` and usage errors print.
pub(crate) const FLAGS: &[(&str, &str, &str, &str, &str)] = &[
    ("", "cacert", "string", "Path to a custom CA certificate for HTTPS connections.", ""),
    ("", "cert", "string", "Path to a client certificate for HTTPS connections.", ""),
    ("", "cert-key", "string", "Path to a client certificate key for HTTPS connections.", ""),
    ("", "clear-cache", "", "Clear the remote cache.", ""),
    ("c", "color", "", "Colored output. Enabled by default. Set flag to false or use NO_COLOR=1 to disable.", "true"),
    ("", "completion", "string", "Generates shell completion script.", ""),
    ("C", "concurrency", "int", "Limit number of tasks to run concurrently.", ""),
    ("d", "dir", "string", "Sets the directory in which Task will execute and look for a Taskfile.", ""),
    ("", "disable-fuzzy", "", "Disables fuzzy matching for task names.", ""),
    ("", "download", "", "Forces task to download remote Taskfiles and ignore any cached versions.", ""),
    ("n", "dry", "", "Compiles and prints tasks in the order that they would be run, without executing them.", ""),
    ("x", "exit-code", "", "Pass-through the exit code of the task command.", ""),
    ("", "experiments", "", "Lists all the available experiments and whether or not they are enabled.", ""),
    ("", "expiry", "duration", "Expiry duration for cached remote Taskfiles.", ""),
    ("F", "failfast", "", "When running tasks in parallel, stop all tasks if one fails.", ""),
    ("f", "force", "", "Forces execution even when the task is up-to-date.", ""),
    ("g", "global", "", "Runs global Taskfile, from $HOME/{T,t}askfile.{yml,yaml}.", ""),
    ("h", "help", "", "Shows Task usage.", ""),
    ("i", "init", "", "Creates a new Taskfile.yml in the current folder.", ""),
    ("", "insecure", "", "Forces Task to download Taskfiles over insecure connections.", ""),
    ("", "interactive", "", "Prompt for missing required variables.", ""),
    ("I", "interval", "duration", "Interval to watch for changes.", ""),
    ("j", "json", "", "Formats task list as JSON.", ""),
    ("l", "list", "", "Lists tasks with description of current Taskfile.", ""),
    ("a", "list-all", "", "Lists tasks with or without a description.", ""),
    ("", "nested", "", "Nest namespaces when listing tasks as JSON", ""),
    ("", "no-status", "", "Ignore status when listing tasks as JSON", ""),
    ("", "offline", "", "Forces Task to only use local or cached Taskfiles.", ""),
    ("o", "output", "string", "Sets output style: [interleaved|group|prefixed].", ""),
    ("", "output-group-begin", "string", "Message template to print before a task's grouped output.", ""),
    ("", "output-group-end", "string", "Message template to print after a task's grouped output.", ""),
    ("", "output-group-error-only", "", "Swallow output from successful tasks.", ""),
    ("p", "parallel", "", "Executes tasks provided on command line in parallel.", ""),
    ("", "remote-cache-dir", "string", "Directory to cache remote Taskfiles.", ""),
    ("s", "silent", "", "Disables echoing.", ""),
    ("", "sort", "string", "Changes the order of the tasks when listed. [default|alphanumeric|none].", ""),
    ("", "status", "", "Exits with non-zero exit code if any of the given tasks is not up-to-date.", ""),
    ("", "summary", "", "Show summary about a task.", ""),
    ("t", "taskfile", "string", "Choose which Taskfile to run. Defaults to \"Taskfile.yml\".", ""),
    ("", "temp-dir", "string", "Sets the directory used to store Task temporary files, such as checksums. Relative paths are relative to the root Taskfile.", ""),
    ("", "timeout", "duration", "Timeout for downloading remote Taskfiles.", "10s"),
    ("", "trusted-hosts", "strings", "List of trusted hosts for remote Taskfiles (comma-separated).", ""),
    ("v", "verbose", "", "Enables verbose mode.", ""),
    ("", "version", "", "Show Task version.", ""),
    ("w", "watch", "", "Enables watch of the given task.", ""),
    ("y", "yes", "", "Assume \"yes\" as answer to all prompts.", ""),
];

const USAGE_HEAD: &str = r#"Usage: task [flags...] [task...]

Runs the specified task(s). Falls back to the "default" task if no task name
was specified, or lists all tasks if an unknown task name was specified.

Example: 'task hello' with the following 'Taskfile.yml' file will generate an
'output.txt' file with the content "hello".

'''
version: '3'
tasks:
  hello:
    cmds:
      - echo "I am going to write a file named 'output.txt' now."
      - echo "hello" > output.txt
    generates:
      - output.txt
'''

Options:
"#;

/// The usage text in pflag's layout, as go-task prints it for `--help` and flag errors.
pub fn usage() -> String {
    let mut out = String::from(USAGE_HEAD);
    let lefts: Vec<String> = FLAGS
        .iter()
        .map(|(short, long, ty, _, _)| {
            let s = if short.is_empty() {
                "    ".to_string()
            } else {
                format!("-{short}, ")
            };
            let ty = if ty.is_empty() {
                String::new()
            } else {
                format!(" {ty}")
            };
            format!("  {s}--{long}{ty}")
        })
        .collect();
    let width = lefts.iter().map(|l| l.len()).max().unwrap_or(0);
    for (left, (_, _, _, help, default)) in lefts.iter().zip(FLAGS) {
        let def = if default.is_empty() {
            String::new()
        } else {
            format!(" (default {default})")
        };
        out.push_str(&format!("{left:width$}   {help}{def}\n"));
    }
    out
}
