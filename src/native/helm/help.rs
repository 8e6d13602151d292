//! `--help` texts and `helm version` for the native helm, in Helm's (cobra's) layout:
//! description, `Usage:`, optional `Aliases:` / `Available Commands:`, `Flags:` (the
//! command's own, plus `-h, --help`) and `Global Flags:`, flag lines as pflag aligns them.
//! The descriptions are ours.

/// (shorthand, name, value type — empty for a boolean, usage, default as printed).
type FlagDoc = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The Helm release whose command line and output the native helm follows.
pub const HELM_VERSION: &str = "v4.2.3";

/// Helm's persistent flags: accepted by every native command (most have no effect here).
pub const GLOBAL: &[FlagDoc] = &[
    (
        "",
        "burst-limit",
        "int",
        "Kubernetes client throttling burst (no effect in oxtask)",
        "100",
    ),
    (
        "",
        "color",
        "string",
        "when to colour output: never, auto or always",
        "\"auto\"",
    ),
    ("", "colour", "string", "same as --color", "\"auto\""),
    (
        "",
        "content-cache",
        "string",
        "directory for cached chart content",
        "",
    ),
    ("", "debug", "", "print extra diagnostics", ""),
    (
        "",
        "kube-apiserver",
        "string",
        "Kubernetes API server address (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-as-group",
        "stringArray",
        "group to impersonate, repeatable (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-as-user",
        "string",
        "user to impersonate (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-ca-file",
        "string",
        "CA file for the Kubernetes API server (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-context",
        "string",
        "kubeconfig context to use (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-insecure-skip-tls-verify",
        "",
        "do not verify the Kubernetes API server's certificate (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-tls-server-name",
        "string",
        "server name for the Kubernetes API server's certificate (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kube-token",
        "string",
        "bearer token for the Kubernetes API server (no effect in oxtask)",
        "",
    ),
    (
        "",
        "kubeconfig",
        "string",
        "path of the kubeconfig file (no effect in oxtask)",
        "",
    ),
    (
        "n",
        "namespace",
        "string",
        "namespace scope for this request (.Release.Namespace in helm template; no cluster is contacted)",
        "",
    ),
    (
        "",
        "qps",
        "float32",
        "Kubernetes API queries per second (no effect in oxtask)",
        "",
    ),
    (
        "",
        "registry-config",
        "string",
        "registry credentials file",
        "\"~/.config/helm/registry/config.json\"",
    ),
    (
        "",
        "repository-cache",
        "string",
        "directory of cached repository indexes",
        "\"~/.cache/helm/repository\"",
    ),
    (
        "",
        "repository-config",
        "string",
        "file listing chart repositories",
        "\"~/.config/helm/repositories.yaml\"",
    ),
];

const TLS: &[FlagDoc] = &[
    (
        "",
        "ca-file",
        "string",
        "trust the CAs in this PEM bundle for HTTPS registries",
        "",
    ),
    (
        "",
        "cert-file",
        "string",
        "client certificate (PEM) presented to the registry",
        "",
    ),
    (
        "",
        "insecure-skip-tls-verify",
        "",
        "do not verify the registry's TLS certificate",
        "",
    ),
    (
        "",
        "key-file",
        "string",
        "private key (PEM) of the client certificate",
        "",
    ),
    ("", "password", "string", "registry password or token", ""),
    (
        "",
        "plain-http",
        "",
        "talk to the registry over plain HTTP instead of HTTPS",
        "",
    ),
    ("", "username", "string", "registry user name", ""),
];

const COSIGN_PULL: &[FlagDoc] = &[
    (
        "",
        "certificate-identity",
        "string",
        "with --verify-cosign: the signer identity the certificate must name",
        "",
    ),
    (
        "",
        "certificate-identity-regexp",
        "string",
        "with --verify-cosign: a regular expression for the signer identity",
        "",
    ),
    (
        "",
        "certificate-oidc-issuer",
        "string",
        "with --verify-cosign: the OIDC issuer the certificate must name",
        "",
    ),
    (
        "",
        "certificate-oidc-issuer-regexp",
        "string",
        "with --verify-cosign: a regular expression for the OIDC issuer",
        "",
    ),
    (
        "",
        "cosign-key",
        "string",
        "with --verify-cosign: verify with this public key instead of a certificate",
        "",
    ),
    (
        "",
        "insecure-ignore-tlog",
        "",
        "with --verify-cosign: do not require a transparency log entry",
        "",
    ),
    (
        "",
        "trusted-root",
        "string",
        "with --verify-cosign: Sigstore trusted root JSON to verify against",
        "",
    ),
    (
        "",
        "verify-cosign",
        "",
        "verify the chart's cosign signature before saving it (oxtask extension)",
        "",
    ),
];

/// One native command's help.
struct Command {
    /// Words after `helm` (`"push"`, `"registry login"`).
    path: &'static str,
    /// Arguments shown after the path on the usage line.
    args: &'static str,
    aliases: &'static [&'static str],
    /// Description printed first (the long form).
    about: &'static str,
    /// One line for the parent's command list.
    short: &'static str,
    flags: &'static [&'static [FlagDoc]],
    /// Child commands (`registry` → login, logout).
    children: &'static [&'static str],
}

const COMMANDS: &[Command] = &[
    Command {
        path: "package",
        args: "[CHART_PATH] [...]",
        aliases: &[],
        about: "Package chart directories into versioned chart archives (NAME-VERSION.tgz).\n\nWith --sign, a provenance file (.prov) signed with a PGP key is written next to the\narchive. With --dependency-update, the chart's dependencies are fetched into charts/\nfirst.",
        short: "package a chart directory into a chart archive",
        flags: &[
            &[
                ("", "app-version", "string", "set appVersion in the packaged Chart.yaml", ""),
                ("u", "dependency-update", "", "update dependencies into charts/ before packaging", ""),
                ("d", "destination", "string", "directory the archive is written to", "\".\""),
                ("", "key", "string", "name of the PGP key to sign with", ""),
                ("", "keyring", "string", "PGP keyring holding the signing key", "\"~/.gnupg/pubring.gpg\""),
                ("", "passphrase-file", "string", "file holding the key's passphrase (\"-\" for stdin)", ""),
                ("", "reproducible", "", "stamp entries with SOURCE_DATE_EPOCH (or 0) for identical archives (oxtask extension)", ""),
                ("", "sign", "", "write a PGP-signed provenance file next to the archive", ""),
                ("", "version", "string", "set the version in the packaged Chart.yaml", ""),
            ],
            TLS,
        ],
        children: &[],
    },
    Command {
        path: "push",
        args: "[chart] [remote]",
        aliases: &[],
        about: "Upload a chart archive to an OCI registry.\n\nThe remote is oci://HOST/NAMESPACE; the chart is stored as NAMESPACE/NAME:VERSION,\nwith its .prov file when one sits next to the archive.",
        short: "upload a chart to an OCI registry",
        flags: &[
            &[("o", "output", "string", "output format: table, json or yaml", "\"table\"")],
            TLS,
        ],
        children: &[],
    },
    Command {
        path: "pull",
        args: "[chart URL | repo/chartname] [...]",
        aliases: &["fetch"],
        about: "Download a chart from an OCI registry (oci://HOST/NS/NAME) or a chart repository\n(REPO/CHART after helm repo add, CHART with --repo URL, an archive URL) into a local\ndirectory, optionally unpacked and verified.",
        short: "download a chart",
        flags: &[
            &[
                ("d", "destination", "string", "directory the chart is written to", "\".\""),
                ("", "devel", "", "also consider pre-release versions when --version is a range", ""),
                ("", "keyring", "string", "PGP keyring used by --verify", "\"~/.gnupg/pubring.gpg\""),
                ("", "prov", "", "also download the provenance file", ""),
                ("", "untar", "", "unpack the chart after downloading it", ""),
                ("", "untardir", "string", "with --untar: directory to unpack into", "\".\""),
                ("", "verify", "", "check the chart's provenance file before using it", ""),
                ("", "version", "string", "version or SemVer range to download (default: the latest)", ""),
                ("", "repo", "string", "chart repository URL to find the chart in", ""),
                ("", "pass-credentials", "", "pass credentials to all domains", ""),
            ],
            COSIGN_PULL,
            TLS,
        ],
        children: &[],
    },
    Command {
        path: "show",
        args: "",
        aliases: &["inspect"],
        about: "Show information about a chart: an oci:// reference, a chart archive or a chart\ndirectory.",
        short: "show information of a chart",
        flags: &[],
        children: &["all", "chart", "crds", "readme", "values"],
    },
    Command {
        path: "show all",
        args: "[CHART]",
        aliases: &[],
        about: "Print Chart.yaml, values.yaml, the README and the CRDs, separated by '---' lines.",
        short: "show all information of the chart",
        flags: &[TLS, CHART_SOURCE],
        children: &[],
    },
    Command {
        path: "show crds",
        args: "[CHART]",
        aliases: &[],
        about: "Print the CRD files (crds/*.yaml, *.yml, *.json) of the chart and its subcharts.",
        short: "show the chart's CRDs",
        flags: &[TLS, CHART_SOURCE],
        children: &[],
    },
    Command {
        path: "create",
        args: "NAME",
        aliases: &[],
        about: "Create a chart directory NAME with Helm's starter chart (Chart.yaml, values.yaml,\n.helmignore, templates/ and charts/). Existing files are overwritten with a warning.\nWith --starter, a real helm on PATH does the work.",
        short: "create a new chart with the given name",
        flags: &[&[("p", "starter", "string", "the name or absolute path to a Helm starter scaffold (handed to a real helm)", "")]],
        children: &[],
    },
    Command {
        path: "env",
        args: "",
        aliases: &[],
        about: "Print Helm's environment: its directories and settings as NAME=\"VALUE\" lines, or the\nvalue of one NAME.",
        short: "helm client environment information",
        flags: &[],
        children: &[],
    },
    Command {
        path: "dependency",
        args: "",
        aliases: &["dep", "dependencies"],
        about: "Manage a chart's dependencies (Chart.yaml's dependencies, Chart.lock, the charts/\ndirectory). Repositories are given by URL: oci://, http(s):// or file://.",
        short: "manage a chart's dependencies",
        flags: &[],
        children: &["build", "list", "update"],
    },
    Command {
        path: "dependency build",
        args: "CHART",
        aliases: &[],
        about: "Rebuild charts/ from Chart.lock: the locked versions are fetched again. Without a\nlock file this is 'helm dependency update'.",
        short: "rebuild the charts/ directory based on the Chart.lock file",
        flags: &[DEPS, TLS],
        children: &[],
    },
    Command {
        path: "dependency list",
        args: "CHART",
        aliases: &["ls"],
        about: "List the dependencies of a chart and whether charts/ holds them.",
        short: "list the dependencies for the given chart",
        flags: &[&[("", "max-col-width", "uint", "maximum column width for output table", "80")]],
        children: &[],
    },
    Command {
        path: "dependency update",
        args: "CHART",
        aliases: &["up"],
        about: "Resolve the dependencies of Chart.yaml to the newest versions their constraints allow,\ndownload them into charts/ and write Chart.lock.",
        short: "update charts/ based on the contents of Chart.yaml",
        flags: &[DEPS, TLS],
        children: &[],
    },
    Command {
        path: "repo",
        args: "",
        aliases: &[],
        about: "This command consists of multiple subcommands to interact with chart repositories.\n\nIt can be used to add, remove, list, and index chart repositories.\nRepositories that need credentials or client TLS files are handed to a real helm.",
        short: "add, list, remove, update, and index chart repositories",
        flags: &[],
        children: &["add", "index", "list", "remove", "update"],
    },
    Command {
        path: "repo add",
        args: "[NAME] [URL]",
        aliases: &[],
        about: "add a chart repository",
        short: "add a chart repository",
        flags: &[&[
            ("", "allow-deprecated-repos", "", "by default, this command will not allow adding official repos that have been permanently deleted. This disables that behavior", ""),
            ("", "force-update", "", "replace (overwrite) the repo if it already exists", ""),
            ("", "ca-file", "string", "verify certificates of HTTPS-enabled servers using this CA bundle", ""),
            ("", "cert-file", "string", "identify HTTPS client using this SSL certificate file", ""),
            ("", "insecure-skip-tls-verify", "", "skip tls certificate checks for the repository", ""),
            ("", "key-file", "string", "identify HTTPS client using this SSL key file", ""),
            ("", "pass-credentials", "", "pass credentials to all domains", ""),
            ("", "password", "string", "chart repository password", ""),
            ("", "password-stdin", "", "read chart repository password from stdin", ""),
            ("", "timeout", "duration", "time to wait for the index file download to complete", "2m0s"),
            ("", "username", "string", "chart repository username", ""),
        ]],
        children: &[],
    },
    Command {
        path: "search",
        args: "",
        aliases: &[],
        about: "Search the chart repositories added with helm repo add for charts (helm search repo);\nhelm search hub (Artifact Hub) is handed to a real helm.",
        short: "search for a keyword in charts",
        flags: &[],
        children: &["repo"],
    },
    Command {
        path: "search repo",
        args: "[keyword]",
        aliases: &[],
        about: "Search reads through all of the repositories configured on the system, and\nlooks for matches. Search of these repositories uses the metadata stored on\nthe system.\n\nIt will display the latest stable versions of the charts found. If you\nspecify the --devel flag, the output will include pre-release versions.\nIf you want to search using a version constraint, use --version.",
        short: "search repositories for a keyword in charts",
        flags: &[&[
            ("", "devel", "", "use development versions (alpha, beta, and release candidate releases), too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored", ""),
            ("", "fail-on-no-result", "", "search fails if no results are found", ""),
            ("", "max-col-width", "uint", "maximum column width for output table", "50"),
            ("o", "output", "format", "prints the output in the specified format. Allowed values: table, json, yaml", "table"),
            ("r", "regexp", "", "use regular expressions for searching repositories you have added", ""),
            ("", "version", "string", "search using semantic versioning constraints on repositories you have added", ""),
            ("l", "versions", "", "show the long listing, with each version of each chart on its own line, for repositories you have added", ""),
        ]],
        children: &[],
    },
    Command {
        path: "repo list",
        args: "",
        aliases: &["ls"],
        about: "list chart repositories",
        short: "list chart repositories",
        flags: &[&[
            ("", "no-headers", "", "suppress headers in the output", ""),
            ("o", "output", "format", "prints the output in the specified format. Allowed values: table, json, yaml", "table"),
        ]],
        children: &[],
    },
    Command {
        path: "repo remove",
        args: "[REPO1 [REPO2 ...]]",
        aliases: &["rm"],
        about: "remove one or more chart repositories",
        short: "remove one or more chart repositories",
        flags: &[],
        children: &[],
    },
    Command {
        path: "repo update",
        args: "[REPO1 [REPO2 ...]]",
        aliases: &["up"],
        about: "Update gets the latest information about charts from the respective chart repositories.\nInformation is cached locally, where it is used by commands like 'helm search'.\n\nYou can optionally specify a list of repositories you want to update.\n\t$ helm repo update <repo_name> ...\nTo update all the repositories, use 'helm repo update'.",
        short: "update information of available charts locally from chart repositories",
        flags: &[&[
            ("", "fail-on-repo-update-fail", "", "update fails if any of the repository updates fail", ""),
            ("", "timeout", "duration", "time to wait for the index file download to complete", "2m0s"),
        ]],
        children: &[],
    },
    Command {
        path: "repo index",
        args: "[DIR]",
        aliases: &[],
        about: "Write DIR/index.yaml for the chart archives in DIR and its subdirectories.\n\n'generated' and 'created' are the current time, or SOURCE_DATE_EPOCH when it is set.",
        short: "generate an index file given a directory containing packaged charts",
        flags: &[&[
            ("", "json", "", "output in JSON format", ""),
            ("", "merge", "string", "merge the generated index into the given index", ""),
            ("", "url", "string", "url of chart repository", ""),
        ]],
        children: &[],
    },
    Command {
        path: "show chart",
        args: "[CHART]",
        aliases: &[],
        about: "Print the chart's Chart.yaml.",
        short: "show the chart's definition",
        flags: &[TLS, CHART_SOURCE],
        children: &[],
    },
    Command {
        path: "show values",
        args: "[CHART]",
        aliases: &[],
        about: "Print the chart's values.yaml, or with --jsonpath what a Kubernetes JSONPath\ntemplate selects from the values.",
        short: "show the chart's values",
        flags: &[
            TLS,
            CHART_SOURCE,
            &[("", "jsonpath", "string", "supply a JsonPath expression to filter the output", "")],
        ],
        children: &[],
    },
    Command {
        path: "show readme",
        args: "[CHART]",
        aliases: &[],
        about: "Print the chart's README.",
        short: "show the chart's README",
        flags: &[TLS, CHART_SOURCE],
        children: &[],
    },
    Command {
        path: "lint",
        args: "PATH",
        aliases: &[],
        about: "Examine charts (directories or archives) for possible issues, with Helm 4's rules.\n\nProblems that would make an install fail are reported as [ERROR], departures from\nconvention as [WARNING], suggestions as [INFO]. A chart with errors (or, with --strict,\nwarnings) fails the command.",
        short: "examine a chart for possible issues",
        flags: &[LINT, VALUES],
        children: &[],
    },
    Command {
        path: "template",
        args: "[NAME] [CHART]",
        aliases: &[],
        about: "Render a chart's templates locally and print them, as Helm 4 does: the release manifest\nin install order with \"# Source:\" headers, then the hooks. NAME defaults to\n\"release-name\"; CHART is a chart directory or archive, oci://…, REPO/CHART (after helm repo add)\nor CHART with --repo URL. Nothing contacts a cluster:\nlookup returns empty results and .Capabilities holds Helm's defaults unless\n--kube-version and --api-versions say otherwise.",
        short: "locally render templates",
        flags: &[TEMPLATE, VALUES, CHART_SOURCE, TLS, INSTALL_NOOP],
        children: &[],
    },
    Command {
        path: "verify",
        args: "PATH",
        aliases: &[],
        about: "Check a chart archive against its provenance file (PATH.prov): the PGP signature\nand the archive's digest.",
        short: "verify a signed chart archive",
        flags: &[&[(
            "",
            "keyring",
            "string",
            "PGP keyring holding the signer's public key",
            "\"~/.gnupg/pubring.gpg\"",
        )]],
        children: &[],
    },
    Command {
        path: "registry",
        args: "",
        aliases: &[],
        about: "Log in to and out of OCI registries.",
        short: "log in to or out of a registry",
        flags: &[],
        children: &["login", "logout"],
    },
    Command {
        path: "registry login",
        args: "[host]",
        aliases: &[],
        about: "Check credentials against a registry and store them in the registry config.",
        short: "log in to a registry",
        flags: &[&[
            ("", "ca-file", "string", "trust the CAs in this PEM bundle for HTTPS registries", ""),
            ("", "cert-file", "string", "client certificate (PEM) presented to the registry", ""),
            ("", "insecure", "", "do not verify the registry's TLS certificate", ""),
            ("", "key-file", "string", "private key (PEM) of the client certificate", ""),
            ("p", "password", "string", "registry password or token", ""),
            ("", "password-stdin", "", "read the password or token from standard input", ""),
            ("", "plain-http", "", "talk to the registry over plain HTTP instead of HTTPS", ""),
            ("u", "username", "string", "registry user name", ""),
        ]],
        children: &[],
    },
    Command {
        path: "registry logout",
        args: "[host]",
        aliases: &[],
        about: "Remove a registry's credentials from the registry config.",
        short: "log out of a registry",
        flags: &[],
        children: &[],
    },
    Command {
        path: "version",
        args: "",
        aliases: &[],
        about: "Show the version of the native helm: the Helm release it follows (Version), the\noxtask commit it was built from (GitCommit, GitTreeState) and, where Helm names its\nGo toolchain (GoVersion), the oxtask release, as no Go compiler built it.\n\n--template takes a Go template over .Version, .GitCommit, .GitTreeState, .GoVersion\nand .KubeClientVersion.",
        short: "print the version information",
        flags: &[&[
            ("", "short", "", "print only the version number", ""),
            ("", "template", "string", "Go template for the output", ""),
        ]],
        children: &[],
    },
];

const VALUES: &[FlagDoc] = &[
    (
        "",
        "set",
        "stringArray",
        "set values on the command line (a.b=1,c=x)",
        "",
    ),
    (
        "",
        "set-file",
        "stringArray",
        "set values from files (key=path)",
        "",
    ),
    (
        "",
        "set-json",
        "stringArray",
        "set JSON values (a.b={\"x\":1})",
        "",
    ),
    (
        "",
        "set-literal",
        "stringArray",
        "set a literal string value",
        "",
    ),
    ("", "set-string", "stringArray", "set string values", ""),
    (
        "f",
        "values",
        "strings",
        "values files (YAML), later ones win",
        "",
    ),
];

const LINT: &[FlagDoc] = &[
    (
        "",
        "kube-version",
        "string",
        "Kubernetes version for capabilities and deprecation checks",
        "",
    ),
    ("", "quiet", "", "print only warnings and errors", ""),
    (
        "",
        "skip-schema-validation",
        "",
        "do not validate values against values.schema.json",
        "",
    ),
    ("", "strict", "", "fail on lint warnings", ""),
    (
        "",
        "with-subcharts",
        "",
        "lint the charts under charts/ too",
        "",
    ),
];

const TEMPLATE: &[FlagDoc] = &[
    (
        "a",
        "api-versions",
        "strings",
        "Kubernetes API versions for .Capabilities.APIVersions",
        "",
    ),
    (
        "",
        "include-crds",
        "",
        "include the charts' CRDs in the output",
        "",
    ),
    (
        "",
        "is-upgrade",
        "",
        "set .Release.IsUpgrade instead of .Release.IsInstall",
        "",
    ),
    (
        "",
        "kube-version",
        "string",
        "Kubernetes version for .Capabilities.KubeVersion",
        "",
    ),
    ("", "no-hooks", "", "leave the hooks out", ""),
    (
        "",
        "output-dir",
        "string",
        "write the manifests to files in this directory",
        "",
    ),
    (
        "",
        "release-name",
        "",
        "use the release name in the --output-dir path",
        "",
    ),
    (
        "s",
        "show-only",
        "stringArray",
        "only print manifests from these templates (globs)",
        "",
    ),
    (
        "",
        "skip-schema-validation",
        "",
        "do not validate values against values.schema.json",
        "",
    ),
    ("", "skip-tests", "", "leave test hooks out", ""),
];

/// Where a chart comes from besides a path (ChartPathOptions): a repository or a registry.
const CHART_SOURCE: &[FlagDoc] = &[
    (
        "",
        "devel",
        "",
        "also consider pre-release versions when --version is a range",
        "",
    ),
    (
        "",
        "keyring",
        "string",
        "PGP keyring used by --verify",
        "\"~/.gnupg/pubring.gpg\"",
    ),
    (
        "",
        "pass-credentials",
        "",
        "pass credentials to all domains",
        "",
    ),
    (
        "",
        "repo",
        "string",
        "chart repository URL to find the chart in",
        "",
    ),
    (
        "",
        "verify",
        "",
        "check the chart's provenance file before using it",
        "",
    ),
    (
        "",
        "version",
        "string",
        "version or SemVer range (default: the latest)",
        "",
    ),
];

/// Install's flags `helm template` accepts; they drive a cluster and change nothing rendered.
const INSTALL_NOOP: &[FlagDoc] = &[
    (
        "",
        "atomic",
        "",
        "deprecated: use --rollback-on-failure (no effect in helm template)",
        "",
    ),
    ("", "create-namespace", "", "no effect in helm template", ""),
    (
        "",
        "dependency-update",
        "",
        "update the chart's dependencies first when some are missing",
        "",
    ),
    (
        "",
        "description",
        "string",
        "no effect in helm template",
        "",
    ),
    (
        "",
        "disable-openapi-validation",
        "",
        "no effect in helm template",
        "",
    ),
    (
        "",
        "dry-run",
        "string",
        "\"server\" needs a cluster (handed to a real helm)",
        "",
    ),
    (
        "",
        "enable-dns",
        "",
        "no effect in oxtask (getHostByName stays empty)",
        "",
    ),
    (
        "",
        "force",
        "",
        "deprecated: use --force-replace (no effect in helm template)",
        "",
    ),
    ("", "force-conflicts", "", "no effect in helm template", ""),
    ("", "force-replace", "", "no effect in helm template", ""),
    (
        "g",
        "generate-name",
        "",
        "generate the name (an error together with NAME)",
        "",
    ),
    ("", "hide-notes", "", "no effect in helm template", ""),
    ("", "hide-secret", "", "no effect in helm template", ""),
    (
        "l",
        "labels",
        "stringToString",
        "no effect in helm template",
        "",
    ),
    (
        "",
        "name-template",
        "string",
        "template (sprig functions) that gives the release name",
        "",
    ),
    (
        "",
        "post-renderer",
        "string",
        "a post-renderer plugin (handed to a real helm)",
        "",
    ),
    (
        "",
        "post-renderer-args",
        "stringArray",
        "arguments of the post-renderer",
        "",
    ),
    (
        "",
        "render-subchart-notes",
        "",
        "no effect in helm template",
        "",
    ),
    ("", "replace", "", "no effect in helm template", ""),
    (
        "",
        "rollback-on-failure",
        "",
        "no effect in helm template",
        "",
    ),
    ("", "server-side", "", "no effect in helm template", ""),
    ("", "take-ownership", "", "no effect in helm template", ""),
    ("", "timeout", "duration", "no effect in helm template", ""),
    (
        "",
        "validate",
        "",
        "deprecated: --dry-run=server (handed to a real helm)",
        "",
    ),
    ("", "wait", "", "no effect in helm template", ""),
    ("", "wait-for-jobs", "", "no effect in helm template", ""),
];

const DEPS: &[FlagDoc] = &[
    (
        "",
        "keyring",
        "string",
        "keyring containing public keys",
        "\"~/.gnupg/pubring.gpg\"",
    ),
    (
        "",
        "skip-refresh",
        "",
        "do not refresh the local repository cache",
        "",
    ),
    (
        "",
        "verify",
        "",
        "verify the packages against signatures (handed to a real helm)",
        "",
    ),
];

const ROOT_ABOUT: &str = "The Kubernetes package manager, as far as oxtask runs it natively: packaging, signing\nand verifying charts, and moving them to and from OCI registries. Any other command\n(and any flag not listed here) is handed to the next real helm on PATH.";

/// pflag's flag table: `  -x, --name type` padded to one column, then the usage.
fn flag_usages(flags: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str, &str, &str, &str)> = flags.iter().collect();
    sorted.sort_by_key(|f| f.1);
    sorted.dedup_by_key(|f| f.1);
    let lefts: Vec<String> = sorted
        .iter()
        .map(|(short, long, ty, _, _)| {
            let mut l = if short.is_empty() {
                format!("      --{long}")
            } else {
                format!("  -{short}, --{long}")
            };
            if !ty.is_empty() {
                l.push(' ');
                l.push_str(ty);
            }
            l
        })
        .collect();
    let width = lefts.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (left, (_, _, _, usage, default)) in lefts.iter().zip(&sorted) {
        let mut line = format!("{left:width$}   {usage}");
        if !default.is_empty() {
            line.push_str(&format!(" (default {default})"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn find(path: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.path == path)
}

/// The help of `helm PATH` (`""` for helm itself); `None` for a command not native here.
pub fn help(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some(root_help());
    }
    let c = find(path)?;
    let name = c.path.rsplit(' ').next().unwrap_or(c.path);
    let mut out = format!("{}\n\nUsage:\n", c.about);
    if c.children.is_empty() || !c.args.is_empty() {
        let args = if c.args.is_empty() {
            String::new()
        } else {
            format!(" {}", c.args)
        };
        out.push_str(&format!("  helm {}{args} [flags]\n", c.path));
    }
    if !c.children.is_empty() {
        out.push_str(&format!("  helm {} [command]\n", c.path));
    }
    if !c.aliases.is_empty() {
        out.push_str(&format!("\nAliases:\n  {name}, {}\n", c.aliases.join(", ")));
    }
    if !c.children.is_empty() {
        out.push_str("\nAvailable Commands:\n");
        let rows: Vec<(&str, &str)> = c
            .children
            .iter()
            .filter_map(|ch| find(&format!("{} {ch}", c.path)).map(|cc| (*ch, cc.short)))
            .collect();
        out.push_str(&command_list(&rows));
    }
    let help_usage = format!("help for {name}");
    let mut own: Vec<(&str, &str, &str, &str, &str)> =
        c.flags.iter().flat_map(|f| f.iter().copied()).collect();
    own.push(("h", "help", "", &help_usage, ""));
    out.push_str("\nFlags:\n");
    out.push_str(&flag_usages(&own));
    out.push_str("\nGlobal Flags:\n");
    out.push_str(&flag_usages(GLOBAL));
    if !c.children.is_empty() {
        out.push_str(&format!(
            "\nUse \"helm {} [command] --help\" for more information about a command.\n",
            c.path
        ));
    }
    Some(out)
}

fn command_list(rows: &[(&str, &str)]) -> String {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(11);
    rows.iter()
        .map(|(n, s)| format!("  {n:width$} {s}\n"))
        .collect()
}

fn root_help() -> String {
    let mut out = format!("{ROOT_ABOUT}\n\nUsage:\n  helm [command]\n\nAvailable Commands:\n");
    let rows: Vec<(&str, &str)> = COMMANDS
        .iter()
        .filter(|c| !c.path.contains(' '))
        .map(|c| (c.path, c.short))
        .collect();
    out.push_str(&command_list(&rows));
    let mut flags: Vec<FlagDoc> = GLOBAL.to_vec();
    flags.push(("h", "help", "", "help for helm", ""));
    out.push_str("\nFlags:\n");
    out.push_str(&flag_usages(&flags));
    out.push_str("\nUse \"helm [command] --help\" for more information about a command.\n");
    out
}

/// The commit and tree state oxtask was built from (see build.rs), when known.
fn build_info() -> (&'static str, &'static str) {
    (
        option_env!("OXTASK_GIT_COMMIT").unwrap_or(""),
        option_env!("OXTASK_GIT_TREE_STATE").unwrap_or(""),
    )
}

/// What `helm version` reports. GoVersion names oxtask: no Go toolchain built this helm.
pub fn version_fields() -> Vec<(&'static str, String)> {
    let (commit, state) = build_info();
    vec![
        ("Version", HELM_VERSION.to_string()),
        ("GitCommit", commit.to_string()),
        ("GitTreeState", state.to_string()),
        (
            "GoVersion",
            format!("none (oxtask {}, Rust)", env!("CARGO_PKG_VERSION")),
        ),
        ("KubeClientVersion", String::new()),
    ]
}

/// `helm version [--short] [--template T]`.
pub fn version(args: &[String]) -> Result<String, super::CmdError> {
    use super::args::flag;
    let p = super::parse_flags(
        "version",
        args,
        &[flag("short", None, false), flag("template", None, true)],
    )?;
    if !p.positional.is_empty() {
        return Err(format!("unknown command {:?} for \"helm version\"", p.positional[0]).into());
    }
    let fields = version_fields();
    if let Some(t) = p.get("template").filter(|t| !t.is_empty()) {
        let mut data = crate::template::Map::new();
        for (k, v) in &fields {
            data.insert(k.to_string(), crate::template::Value::str(v));
        }
        return crate::template::render(t, &data).map_err(|e| e.to_string().into());
    }
    if p.bool("short") {
        let (commit, _) = build_info();
        if commit.len() >= 7 {
            return Ok(format!("{HELM_VERSION}+g{}\n", &commit[..7]));
        }
        return Ok(format!("{HELM_VERSION}\n"));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}:{}", go_quote(v)))
        .collect();
    Ok(format!("version.BuildInfo{{{}}}\n", body.join(", ")))
}

/// Go's `%q` for the plain strings these fields hold.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
