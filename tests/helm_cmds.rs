//! `helm create`, `show all|crds`, `repo index`, `dependency list|update|build`, `env`
//! against Helm 4.2.3 (helm-python-sdk) where the SDK exposes the same action, and Helm's
//! documented behaviour otherwise.

#[path = "support/registry.rs"]
mod registry;

use std::path::Path;
use std::process::Command;

use registry::{helm, require_python_module, stderr, stdout, vectors};

/// Runs a Python snippet with the SDK imported as `h`; returns its stdout.
fn py(code: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", &format!("import helm_python as h, json, sys\n{code}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file under `dir` (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push((
                    p.strip_prefix(base).unwrap().display().to_string() + "/",
                    vec![],
                ));
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn create_writes_helms_starter_chart_byte_for_byte() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let o = helm(d.path(), &["create", "sub/my-chart"], &[], None);
    // Helm needs the parent directory
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("Creating sub/my-chart\n"));
    assert!(stderr(&o).starts_with("Error: stat "), "{}", stderr(&o));
    std::fs::create_dir(d.path().join("sub")).unwrap();
    let o = helm(d.path(), &["create", "sub/my-chart"], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Creating sub/my-chart\n");
    let theirs = d.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    py(&format!(
        "h.Chart.create('my-chart', {:?})",
        theirs.to_str().unwrap()
    ));
    assert_eq!(
        tree(&d.path().join("sub/my-chart")),
        tree(&theirs.join("my-chart"))
    );
    // again: Helm warns per file (on stdout) and overwrites
    let o = helm(d.path(), &["create", "sub/my-chart"], &[], None);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains(&format!(
            "WARNING: File \"{}\" already exists. Overwriting.\n",
            d.path()
                .join("sub/my-chart/Chart.yaml")
                .canonicalize()
                .unwrap()
                .display()
        )) || stdout(&o).contains("/sub/my-chart/Chart.yaml\" already exists. Overwriting.\n")
    );
    let o = helm(d.path(), &["create", "bad/name!"], &[], None);
    assert!(stderr(&o).contains("chart name must match the regular expression"));
    let o = helm(d.path(), &["create"], &[], None);
    assert_eq!(
        stderr(&o),
        "Error: \"helm create\" requires 1 argument\n\nUsage:  helm create NAME [flags]\n"
    );
}

#[test]
fn show_all_and_crds_match_helm() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let c = d.path().join("c");
    std::fs::create_dir_all(c.join("crds")).unwrap();
    std::fs::create_dir_all(c.join("charts/sub/crds")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(c.join("values.yaml"), "a: 1\n").unwrap();
    std::fs::write(c.join("README.md"), "# c\n").unwrap();
    std::fs::write(c.join("crds/a.yaml"), "kind: CustomResourceDefinition\n").unwrap();
    std::fs::write(c.join("crds/b.JSON"), "{}\n").unwrap();
    std::fs::write(c.join("crds/c.txt"), "not a crd\n").unwrap();
    std::fs::write(c.join("crds/d.yml"), "---\nkind: X\n").unwrap();
    std::fs::write(
        c.join("charts/sub/Chart.yaml"),
        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(c.join("charts/sub/crds/s.yaml"), "kind: Sub\n").unwrap();
    let mut charts = vec![c.clone()];
    charts.push(vectors().join("helm-testdata/pkg-chart-loader/frobnitz"));
    for chart in &charts {
        for what in ["all", "crds", "chart", "values", "readme"] {
            let want = py(&format!(
                "sys.stdout.write(h.show({:?}, output_format={what:?}))",
                chart.to_str().unwrap()
            ));
            let o = helm(
                d.path(),
                &["show", what, chart.to_str().unwrap()],
                &[],
                None,
            );
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(stdout(&o), want, "show {what} {}", chart.display());
        }
    }
}

#[test]
fn repo_index_matches_helm_and_is_reproducible() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    for (dir, name, version) in [
        ("ours", "a", "1.0.0"),
        ("ours", "a", "1.10.0"),
        ("ours/sub", "b", "0.1.0-rc.1"),
    ] {
        let c = root.join(format!("src-{name}-{version}"));
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(
            c.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\ndescription: \"<&> x\"\nannotations:\n  k: v\n"),
        )
        .unwrap();
        let o = helm(
            root,
            &["package", c.to_str().unwrap(), "-d", dir],
            &[],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    std::fs::write(root.join("ours/junk.tgz"), b"not a chart").unwrap();
    let old = root.join("old.yaml");
    std::fs::write(
        &old,
        "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.10.0\n    apiVersion: v2\n    urls: [https://old/a-1.10.0.tgz]\n  - name: a\n    version: 0.9.0\n    apiVersion: v2\n    created: \"2020-01-01T00:00:00.5+02:00\"\n    digest: abc\n    urls: [https://old/a-0.9.0.tgz]\n",
    )
    .unwrap();
    let mask = |s: &str| {
        s.lines()
            .map(
                |l| match l.find("created: ").or_else(|| l.find("generated: ")) {
                    Some(i) if !l.contains("2020-") => format!("{}<time>", &l[..i]),
                    _ => l.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("\n")
    };
    for args in [
        vec![],
        vec!["--url", "https://charts.example.com/x"],
        vec!["--merge", "old.yaml"],
    ] {
        let theirs = root.join("theirs");
        let _ = std::fs::remove_dir_all(&theirs);
        let _ = std::fs::remove_file(root.join("ours/index.yaml"));
        let cp = Command::new("cp")
            .args(["-r", "ours", "theirs"])
            .current_dir(root)
            .status()
            .unwrap();
        assert!(cp.success());
        let mut a = vec!["repo", "index", "ours"];
        a.extend(args.iter().copied());
        let o = helm(root, &a, &[], None);
        assert!(o.status.success(), "{}", stderr(&o));
        let url = args.iter().position(|x| *x == "--url").map(|i| args[i + 1]);
        let merge = args
            .iter()
            .position(|x| *x == "--merge")
            .map(|_| old.to_str().unwrap());
        py(&format!(
            "h.repo_index_generate({:?}, base_url={}, merge={})",
            theirs.to_str().unwrap(),
            url.map(|u| format!("{u:?}")).unwrap_or("None".into()),
            merge.map(|u| format!("{u:?}")).unwrap_or("None".into()),
        ));
        let ours = std::fs::read_to_string(root.join("ours/index.yaml")).unwrap();
        let want = std::fs::read_to_string(theirs.join("index.yaml")).unwrap();
        assert_eq!(mask(&ours), mask(&want), "repo index {args:?}");
    }
    // the times come from SOURCE_DATE_EPOCH when it is set
    let o = helm(
        root,
        &["repo", "index", "ours"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
        None,
    );
    assert!(o.status.success());
    let a = std::fs::read(root.join("ours/index.yaml")).unwrap();
    let o = helm(
        root,
        &["repo", "index", "ours"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
        None,
    );
    assert!(o.status.success());
    assert_eq!(a, std::fs::read(root.join("ours/index.yaml")).unwrap());
    let text = String::from_utf8(a).unwrap();
    assert!(
        text.contains("generated: \"2023-11-14T22:13:20Z\"\n"),
        "{text}"
    );
    assert!(text.contains("created: \"2023-11-14T22:13:20Z\"\n"));
}

fn mk_chart(dir: &Path, name: &str, version: &str, extra: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n{extra}"),
    )
    .unwrap();
}

#[test]
fn dependency_update_build_list_match_helm() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    mk_chart(&root.join("sub"), "sub", "0.2.0", "");
    mk_chart(&root.join("other"), "other", "1.0.0", "");
    let deps = "dependencies:\n- name: sub\n  version: ^0.1.0 || ^0.2.0\n  repository: file://../sub\n- name: other\n  version: 1.0.0\n  repository: \"file://../other\"\n  alias: o2\n- name: local\n  version: \">=0.0.1\"\n";
    for p in ["ours", "theirs"] {
        mk_chart(&root.join(p), "parent", "1.0.0", deps);
        mk_chart(&root.join(p).join("charts/local"), "local", "0.0.2", "");
    }
    let env = [("SOURCE_DATE_EPOCH", "1700000000")];
    // before: statuses as the SDK reports them
    let list_status = |p: &str| -> Vec<String> {
        let o = helm(root, &["dependency", "list", p], &[], None);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .map(|l| l.split('\t').next_back().unwrap().trim().to_string())
            .collect()
    };
    let sdk_status = |p: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&py(&format!(
            "print(json.dumps(h.dependency_list({:?})))",
            root.join(p).to_str().unwrap()
        )))
        .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(list_status("ours"), sdk_status("theirs"));
    let o = helm(root, &["dependency", "update", "ours"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Saving 3 charts\nDependency local did not declare a repository. Assuming it exists in the charts directory\nDeleting outdated charts\n"
    );
    py(&format!(
        "h.dependency_update({:?})",
        root.join("theirs").to_str().unwrap()
    ));
    let lock = |p: &str| {
        std::fs::read_to_string(root.join(p).join("Chart.lock"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("generated:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(lock("ours"), lock("theirs"));
    let names = |p: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root.join(p).join("charts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("ours"), names("theirs"));
    assert_eq!(list_status("ours"), sdk_status("theirs"));
    assert_eq!(list_status("ours"), ["ok", "ok", "unpacked"]);
    // the table: tab-separated, cells padded to the column width
    let o = helm(root, &["dep", "ls", "ours"], &[], None);
    assert_eq!(
        stdout(&o).lines().next().unwrap(),
        "NAME \tVERSION         \tREPOSITORY     \tSTATUS  "
    );
    // build: the locked versions again, after charts/ lost them
    std::fs::remove_file(root.join("ours/charts/sub-0.2.0.tgz")).unwrap();
    let o = helm(root, &["dependency", "build", "ours"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names("ours"), names("theirs"));
    // a lock out of sync with Chart.yaml
    let cy = root.join("ours/Chart.yaml");
    let text = std::fs::read_to_string(&cy).unwrap().replace(
        "1.0.0\n  repository: \"file",
        "~1.0.0\n  repository: \"file",
    );
    std::fs::write(&cy, text).unwrap();
    let o = helm(root, &["dependency", "build", "ours"], &env, None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Error: the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'helm dependency update'\n"
    );
    // no dependencies at all
    mk_chart(&root.join("lonely"), "lonely", "1.0.0", "");
    let o = helm(root, &["dependency", "list", "lonely"], &[], None);
    assert_eq!(stdout(&o), "WARNING: no dependencies at lonely/charts\n");
}

#[test]
fn env_prints_helms_settings() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path().to_str().unwrap().to_string();
    let env = [
        ("HELM_CONFIG_HOME", "/cfg"),
        ("XDG_CACHE_HOME", "/xdg-cache"),
        ("HELM_NAMESPACE", "ns1"),
    ];
    let o = helm(d.path(), &["env"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let keys: Vec<&str> = out.lines().map(|l| l.split('=').next().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "name order");
    for line in [
        "HELM_CACHE_HOME=\"/xdg-cache/helm\"",
        "HELM_CONFIG_HOME=\"/cfg\"",
        &format!("HELM_DATA_HOME=\"{home}/.local/share/helm\""),
        "HELM_REPOSITORY_CONFIG=\"/cfg/repositories.yaml\"",
        "HELM_REGISTRY_CONFIG=\"/cfg/registry/config.json\"",
        "HELM_REPOSITORY_CACHE=\"/xdg-cache/helm/repository\"",
        "HELM_NAMESPACE=\"ns1\"",
        "HELM_MAX_HISTORY=\"10\"",
        "HELM_QPS=\"0.00\"",
        "HELM_BURST_LIMIT=\"100\"",
        "HELM_DEBUG=\"false\"",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} missing in\n{out}");
    }
    let o = helm(
        d.path(),
        &["env", "HELM_NAMESPACE", "-n", "flagged"],
        &env,
        None,
    );
    assert_eq!(stdout(&o), "flagged\n");
    let o = helm(d.path(), &["env", "NOPE"], &env, None);
    assert_eq!(stdout(&o), "\n");
}

/// A `python3 -m http.server` on loopback, stopped on drop.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> (Served, String) {
    let port = registry::free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed().as_secs() < 20, "http.server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (Served(child), format!("http://127.0.0.1:{port}"))
}

#[test]
fn repo_add_list_update_remove_and_build_from_a_chart_repository() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    // a chart repository: two versions of `sub`, packaged and indexed by the SDK
    let repo = root.join("repo");
    for v in ["0.1.0", "0.2.0"] {
        let src = root.join(format!("src/sub-{v}"));
        mk_chart(&src, "sub", v, "");
        py(&format!(
            "h.package({:?}, destination={:?})",
            src.to_str().unwrap(),
            repo.to_str().unwrap()
        ));
    }
    let (_srv, url) = serve(&repo);
    py(&format!(
        "h.repo_index_generate({:?}, base_url={:?})",
        repo.to_str().unwrap(),
        url
    ));
    let work = root.join("w");
    std::fs::create_dir_all(&work).unwrap();
    let o = helm(&work, &["repo", "list"], &[], None);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "no repositories to show\n");
    let o = helm(&work, &["repo", "add", "myrepo", &url], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\"myrepo\" has been added to your repositories\n"
    );
    // repositories.yaml as sigs.k8s.io/yaml writes repo.File, mode 0600
    let rf = work.join(".helmcfg/repositories.yaml");
    assert_eq!(
        std::fs::read_to_string(&rf).unwrap(),
        format!("apiVersion: \"\"\ngenerated: \"0001-01-01T00:00:00Z\"\nrepositories:\n- caFile: \"\"\n  certFile: \"\"\n  insecure_skip_tls_verify: false\n  keyFile: \"\"\n  name: myrepo\n  pass_credentials_all: false\n  password: \"\"\n  url: {url}\n  username: \"\"\n")
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&rf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cache = work.join(".cache/helm/repository");
    assert_eq!(
        std::fs::read(cache.join("myrepo-index.yaml")).unwrap(),
        std::fs::read(repo.join("index.yaml")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(cache.join("myrepo-charts.txt")).unwrap(),
        "sub\n"
    );
    let o = helm(&work, &["repo", "add", "myrepo", &url], &[], None);
    assert_eq!(
        stdout(&o),
        "\"myrepo\" already exists with the same configuration, skipping\n"
    );
    let o = helm(
        &work,
        &["repo", "add", "myrepo", &format!("{url}/x")],
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Error: repository name (myrepo) already exists, please specify a different name\n"
    );
    let o = helm(&work, &["repo", "add", "a/b", &url], &[], None);
    assert!(stderr(&o).contains("contains '/'"), "{}", stderr(&o));
    let o = helm(
        &work,
        &["repo", "add", "bad", &format!("{url}/nothing")],
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!(
            "Error: looks like \"{url}/nothing\" is not a valid chart repository or cannot be reached: failed to fetch {url}/nothing/index.yaml : 404"
        )),
        "{}",
        stderr(&o)
    );
    let o = helm(&work, &["repo", "list"], &[], None);
    assert_eq!(stdout(&o), format!("NAME  \tURL\nmyrepo\t{url}\n"));
    let o = helm(&work, &["repo", "ls", "-o", "json"], &[], None);
    assert_eq!(
        stdout(&o),
        format!("[{{\"name\":\"myrepo\",\"url\":\"{url}\"}}]\n")
    );
    let o = helm(&work, &["repo", "update"], &[], None);
    assert_eq!(
        stdout(&o),
        "Hang tight while we grab the latest from your chart repositories...\n...Successfully got an update from the \"myrepo\" chart repository\nUpdate Complete. ⎈Happy Helming!⎈\n"
    );
    let o = helm(&work, &["repo", "update", "nope"], &[], None);
    assert_eq!(
        stderr(&o),
        "Error: no repositories found matching 'nope'.  Nothing will be updated\n"
    );

    // dependency update from the repository beside the SDK's, then build from the lock
    let deps = format!("dependencies:\n- name: sub\n  version: ^0.1.0\n  repository: {url}\n- name: sub\n  alias: newest\n  version: \">=0.1.0\"\n  repository: {url}\n");
    for p in ["ours", "theirs"] {
        mk_chart(&work.join(p), "parent", "1.0.0", &deps);
    }
    let env = [("SOURCE_DATE_EPOCH", "1700000000")];
    let o = helm(&work, &["dependency", "update", "ours"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("Hang tight while we grab the latest from your chart repositories...\n...Successfully got an update from the \"myrepo\" chart repository\nUpdate Complete. ⎈Happy Helming!⎈\nSaving 2 charts\n"),
        "{}",
        stdout(&o)
    );
    py(&format!(
        "h.dependency_update({:?})",
        work.join("theirs").to_str().unwrap()
    ));
    let lock = |p: &str| {
        std::fs::read_to_string(work.join(p).join("Chart.lock"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("generated:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(lock("ours"), lock("theirs"));
    assert_eq!(
        tree(&work.join("ours/charts")),
        tree(&work.join("theirs/charts"))
    );
    std::fs::remove_dir_all(work.join("ours/charts")).unwrap();
    let o = helm(&work, &["dependency", "build", "ours"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("Hang tight"), "{}", stdout(&o));
    assert_eq!(
        tree(&work.join("ours/charts")),
        tree(&work.join("theirs/charts"))
    );
    // --skip-refresh: no refresh lines
    std::fs::remove_dir_all(work.join("ours/charts")).unwrap();
    let o = helm(
        &work,
        &["dependency", "build", "ours", "--skip-refresh"],
        &env,
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("Saving 2 charts\n"),
        "{}",
        stdout(&o)
    );
    // `@name` names the repository by its entry; the lock records its URL (Helm rewrites
    // the dependency before resolving)
    mk_chart(
        &work.join("alias"),
        "parent",
        "1.0.0",
        "dependencies:\n- name: sub\n  version: ^0.1.0\n  repository: \"@myrepo\"\n",
    );
    let o = helm(&work, &["dependency", "update", "alias"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let l = std::fs::read_to_string(work.join("alias/Chart.lock")).unwrap();
    assert!(
        l.contains(&format!("  repository: {url}\n  version: 0.1.0\n")),
        "{l}"
    );
    mk_chart(
        &work.join("alias2"),
        "parent",
        "1.0.0",
        "dependencies:\n- name: sub\n  version: ^0.1.0\n  repository: \"@other\"\n",
    );
    let o = helm(&work, &["dependency", "update", "alias2"], &env, None);
    assert_eq!(
        stderr(&o),
        "Error: no repository definition for @other. Please add them via 'helm repo add'\n"
    );
    // remove: the entry and its cached index go
    let o = helm(&work, &["repo", "remove", "myrepo"], &[], None);
    assert_eq!(
        stdout(&o),
        "\"myrepo\" has been removed from your repositories\n"
    );
    assert!(!cache.join("myrepo-index.yaml").exists());
    assert!(!cache.join("myrepo-charts.txt").exists());
    let o = helm(&work, &["repo", "remove", "myrepo"], &[], None);
    assert_eq!(stderr(&o), "Error: no repositories configured\n");
    // build now lacks the repository definition
    let o = helm(&work, &["dependency", "build", "ours"], &env, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no repository definition for"),
        "{}",
        stderr(&o)
    );
}

/// A chart pushed by Helm 4.2.3 (SDK) to a real registry, then `helm template`, `pull` and
/// `show chart` of its `oci://` reference: Helm 4's registry client prints `Pulled:`,
/// `Digest:` (and the underscore note for a `+` version) on the command's stdout before
/// the command's own output; the rendering is the SDK's rendering of the same chart.
#[test]
fn template_pull_and_show_of_an_oci_chart_print_helm_4s_lines_on_stdout() {
    if !require_python_module("helm_python") {
        return;
    }
    let Some(reg) = registry::start_registry(None) else {
        return;
    };
    let host = reg.host();
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let src = root.join("src/web");
    mk_chart(&src, "web", "1.2.3+build.1", "");
    std::fs::write(src.join("values.yaml"), "replicas: 2\n").unwrap();
    std::fs::write(
        src.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n  replicas: {{ .Values.replicas | quote }}\n",
    )
    .unwrap();
    let pkg = root.join("pkg");
    let expected = py(&format!(
        r#"
import urllib.request
t = h.package({src:?}, destination={pkg:?})
h.push(t, "oci://{host}/charts", plain_http=True)
req = urllib.request.Request("http://{host}/v2/charts/web/manifests/1.2.3_build.1",
    headers={{"Accept": "application/vnd.oci.image.manifest.v1+json"}})
print(urllib.request.urlopen(req, timeout=30).headers["Docker-Content-Digest"])
c = h.Chart.load({src:?})
cfg = h.Config(storage_driver="memory", namespace="default")
rel = cfg.install(c, "rel", {{"replicas": 5}}, dry_run="client", namespace="default")
sys.stdout.write(rel["manifest"])
"#,
        src = src.to_str().unwrap(),
        pkg = pkg.to_str().unwrap(),
    ));
    let (digest, manifest) = expected.split_once('\n').unwrap();
    let pulled = format!(
        "Pulled: {host}/charts/web:1.2.3_build.1\nDigest: {digest}\n{host}/charts/web:1.2.3_build.1 contains an underscore.\n\nOCI artifact references (e.g. tags) do not support the plus sign (+). To support\nstoring semantic versions, Helm adopts the convention of changing plus (+) to\nan underscore (_) in chart version tags when pushing to a registry and back to\na plus (+) when pulling from a registry.\n"
    );
    let work = root.join("w");
    std::fs::create_dir_all(&work).unwrap();
    let oci = format!("oci://{host}/charts/web");
    let o = helm(
        &work,
        &[
            "template",
            "rel",
            &oci,
            "--version",
            "1.2.3+build.1",
            "--plain-http",
            "--set",
            "replicas=5",
            "--timeout",
            "5m",
            "--wait",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{pulled}{}\n", manifest.trim()));
    let o = helm(
        &work,
        &["pull", &oci, "--version", "1.2.3+build.1", "--plain-http"],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), pulled);
    assert_eq!(stderr(&o), "");
    assert_eq!(
        std::fs::read(work.join("web-1.2.3+build.1.tgz")).unwrap(),
        std::fs::read(pkg.join("web-1.2.3+build.1.tgz")).unwrap()
    );
    let o = helm(
        &work,
        &[
            "show",
            "chart",
            &oci,
            "--version",
            "1.2.3+build.1",
            "--plain-http",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("{pulled}apiVersion: v2\nname: web\nversion: 1.2.3+build.1\n\n")
    );
    // a name and --generate-name together: Helm's NameAndChart error
    let o = helm(&work, &["template", "rel", &oci, "-g"], &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Error: cannot set --generate-name and also specify a name\n"
    );
}

/// `helm pull`, `show` and `template` of a chart repository's chart (`--repo URL`,
/// `REPO/CHART` after `repo add`, an archive URL) beside Helm 4.2.3's pull (SDK,
/// `repo_url=`): the same file name and bytes, the same version picked, Helm's errors.
#[test]
fn pull_show_and_template_from_a_chart_repository_match_helm() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let repo = root.join("repo");
    for v in ["1.0.0", "1.1.0", "2.0.0-rc.1"] {
        let src = root.join(format!("src/web-{v}"));
        mk_chart(&src, "web", v, "");
        std::fs::write(
            src.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  v: {{ .Chart.Version | quote }}\n",
        )
        .unwrap();
        py(&format!(
            "h.package({:?}, destination={:?})",
            src.to_str().unwrap(),
            repo.to_str().unwrap()
        ));
    }
    let (_srv, url) = serve(&repo);
    py(&format!(
        "h.repo_index_generate({:?}, base_url={:?})",
        repo.to_str().unwrap(),
        url
    ));
    let work = root.join("w");
    std::fs::create_dir_all(&work).unwrap();
    // Helm's pull through the SDK: (file names written, or the error)
    let sdk = |chart: &str, repo_url: Option<&str>, version: Option<&str>| -> String {
        let dest = root.join(format!("sdk-{}", rand_suffix()));
        py(&format!(
            "import os\nos.makedirs({dest:?})\ntry:\n    h.pull({chart:?}, repo_url={repo_url}, version={version}, destination={dest:?})\n    print(' '.join(sorted(os.listdir({dest:?}))))\nexcept h.HelmError as e:\n    print('Error: ' + str(e))",
            dest = dest.to_str().unwrap(),
            repo_url = repo_url.map(|u| format!("{u:?}")).unwrap_or("None".into()),
            version = version.map(|u| format!("{u:?}")).unwrap_or("None".into()),
        ))
        .trim()
        .to_string()
    };
    let ours = |args: &[&str]| -> String {
        let dest = work.join(format!("ox-{}", rand_suffix()));
        let mut a = vec!["pull"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-d", dest.to_str().unwrap()]);
        let o = helm(&work, &a, &[], None);
        if !o.status.success() {
            assert_eq!(stdout(&o), "", "{a:?}");
            return stderr(&o).trim().to_string();
        }
        let mut names: Vec<String> = std::fs::read_dir(&dest)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in &names {
            assert_eq!(
                std::fs::read(dest.join(n)).unwrap(),
                std::fs::read(repo.join(n)).unwrap(),
                "{n}"
            );
        }
        names.join(" ")
    };
    for (chart, version) in [
        ("web", None),
        ("web", Some("1.0.0")),
        ("web", Some("~1.0")),
        ("web", Some(">0.0.0-0")),
        ("web", Some("7")),
        ("nope", None),
    ] {
        let mut args = vec![chart, "--repo", &url];
        if let Some(v) = version {
            args.extend_from_slice(&["--version", v]);
        }
        assert_eq!(
            ours(&args),
            sdk(chart, Some(&url), version),
            "{chart} {version:?}"
        );
    }
    let archive = format!("{url}/web-1.0.0.tgz");
    assert_eq!(ours(&[&archive]), sdk(&archive, None, None));
    for bad in ["web", "x/web"] {
        assert_eq!(ours(&[bad]), sdk(bad, None, None), "{bad}");
    }
    // REPO/CHART through repositories.yaml and the cached index (`repo add`)
    let o = helm(&work, &["repo", "add", "r", &url], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(ours(&["r/web"]), "web-1.1.0.tgz");
    assert_eq!(ours(&["r/web", "--devel"]), "web-2.0.0-rc.1.tgz");
    assert_eq!(ours(&["r/web", "--version", "1.0.0"]), "web-1.0.0.tgz");
    assert_eq!(
        ours(&["r/nope"]),
        "Error: chart \"nope\" matching  not found in r index. (try 'helm repo update'): no chart name found"
    );
    assert_eq!(
        ours(&["r/web", "--version", "9"]),
        "Error: chart \"web\" matching 9 not found in r index. (try 'helm repo update'): no chart version found for web-9"
    );
    // --verify needs the .prov the repository does not have; nothing is written
    assert_eq!(
        ours(&["r/web", "--verify"]),
        format!("Error: failed to fetch provenance \"{url}/web-1.1.0.tgz.prov\"")
    );
    let o = helm(
        &work,
        &["show", "chart", "r/web", "--version", "1.0.0"],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "apiVersion: v2\nname: web\nversion: 1.0.0\n\n");
    let o = helm(&work, &["template", "x", "web", "--repo", &url], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: \"1.1.0\"\n"
    );
    let o = helm(&work, &["template", "x", "./nope"], &[], None);
    assert_eq!(stderr(&o), "Error: path \"./nope\" not found\n");
    // a cached index that was removed: Helm's hint, no download
    std::fs::remove_file(work.join(".cache/helm/repository/r-index.yaml")).unwrap();
    let e = ours(&["r/web"]);
    assert!(
        e.starts_with("Error: no cached repo found. (try 'helm repo update'): open ")
            && e.ends_with("r-index.yaml: no such file or directory"),
        "{e}"
    );
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

/// `helm template --dependency-update`: runInstall updates a chart whose dependencies are
/// missing (Manager.Update's lines on stdout), reads it again and renders it; without the
/// flag it is Helm's missing-dependencies error.
#[test]
fn template_dependency_update_fetches_missing_dependencies_first() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    mk_chart(
        &root.join("app"),
        "app",
        "0.1.0",
        "dependencies:\n- name: lib\n  version: 0.1.0\n  repository: file://../lib\n",
    );
    mk_chart(&root.join("lib"), "lib", "0.1.0", "");
    std::fs::write(
        root.join("lib/templates/a.yaml"),
        "kind: A\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    let o = helm(root, &["template", "x", "./app"], &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).ends_with("found in Chart.yaml, but missing in charts/ directory: lib\n"));
    let o = helm(
        root,
        &["template", "x", "./app", "--dependency-update"],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Saving 1 charts\nDeleting outdated charts\n---\n# Source: app/charts/lib/templates/a.yaml\nkind: A\nmetadata:\n  name: x\n"
    );
    assert!(root.join("app/charts/lib-0.1.0.tgz").is_file());
}

/// A chart repository behind HTTP basic auth: `repo add --username --password-stdin`
/// stores the credentials (repositories.yaml, 0600) and every later download from that
/// repository — `repo update`, `pull REPO/CHART`, `dependency update` with `@REPO` — sends
/// them; `pull --repo URL --username --password` beside Helm 4.2.3's pull (SDK). The
/// password never shows in any output.
#[test]
fn chart_repository_with_basic_auth() {
    if !require_python_module("helm_python") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let repo = root.join("repo");
    let src = root.join("src/web");
    mk_chart(&src, "web", "1.0.0", "");
    py(&format!(
        "h.package({:?}, destination={:?})",
        src.to_str().unwrap(),
        repo.to_str().unwrap()
    ));
    let port = registry::free_port();
    let url = format!("http://127.0.0.1:{port}");
    py(&format!(
        "h.repo_index_generate({:?}, base_url={url:?})",
        repo.to_str().unwrap()
    ));
    // python's http.server with a basic-auth check (oxuser / s3cret-pw)
    let server = r#"
import base64, functools, http.server, sys
want = "Basic " + base64.b64encode(b"oxuser:s3cret-pw").decode()
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != want:
            self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers(); return
        super().do_GET()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), functools.partial(H, directory=sys.argv[2])).serve_forever()
"#;
    let child = Command::new("python3")
        .args(["-c", server, &port.to_string(), repo.to_str().unwrap()])
        .spawn()
        .unwrap();
    let _srv = Served(child);
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed().as_secs() < 20, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let work = root.join("w");
    std::fs::create_dir_all(&work).unwrap();
    let mut outputs = String::new();
    let mut run = |args: &[&str], stdin: Option<&[u8]>| {
        let o = helm(&work, args, &[], stdin);
        outputs.push_str(&stdout(&o));
        outputs.push_str(&stderr(&o));
        o
    };
    let o = run(&["repo", "add", "nope", &url], None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("Error: looks like \"{url}\" is not a valid chart repository or cannot be reached: failed to fetch {url}/index.yaml : 401 Unauthorized\n")
    );
    let o = run(
        &[
            "repo",
            "add",
            "priv",
            &url,
            "--username",
            "oxuser",
            "--password-stdin",
        ],
        Some(b"s3cret-pw\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rf = work.join(".helmcfg/repositories.yaml");
    let text = std::fs::read_to_string(&rf).unwrap();
    assert!(
        text.contains("  password: s3cret-pw\n") && text.contains("  username: oxuser\n"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&rf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let o = run(&["repo", "update"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("...Successfully got an update from the \"priv\" chart repository"));
    let o = run(&["pull", "priv/web", "-d", "a"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(work.join("a/web-1.0.0.tgz")).unwrap(),
        std::fs::read(repo.join("web-1.0.0.tgz")).unwrap()
    );
    // --repo with the command's credentials, beside the SDK
    let o = run(
        &[
            "pull",
            "web",
            "--repo",
            &url,
            "--username",
            "oxuser",
            "--password",
            "s3cret-pw",
            "-d",
            "b",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sdk = root.join("sdk");
    py(&format!(
        "import os\nos.makedirs({sdk:?})\nh.pull('web', repo_url={url:?}, username='oxuser', password='s3cret-pw', destination={sdk:?})",
        sdk = sdk.to_str().unwrap()
    ));
    assert_eq!(
        std::fs::read(work.join("b/web-1.0.0.tgz")).unwrap(),
        std::fs::read(sdk.join("web-1.0.0.tgz")).unwrap()
    );
    let o = run(&["pull", "web", "--repo", &url, "-d", "c"], None);
    assert_eq!(o.status.code(), Some(1));
    // a dependency from the authenticated repository by its alias
    mk_chart(
        &work.join("app"),
        "app",
        "0.1.0",
        "dependencies:\n- name: web\n  version: 1.0.0\n  repository: \"@priv\"\n",
    );
    let o = run(&["dependency", "update", "app"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(work.join("app/charts/web-1.0.0.tgz").is_file());
    assert!(!outputs.contains("s3cret-pw"), "{outputs}");
}

/// `helm search repo` over the cached indexes, following pkg/cmd/search: a match in the
/// chart name scores 0, in REPO/NAME 1, in the description 2, in the keywords 3; results
/// sort by score, then name, then newest version; `>0.0.0` (stable only) unless `--devel`
/// or `--version`; the first version of each name unless `--versions`; a repository
/// without a cached index is Helm's slog warning and is skipped.
#[test]
fn search_repo_follows_helms_index_search() {
    let d = tempfile::tempdir().unwrap();
    let work = d.path();
    let cache = work.join(".cache/helm/repository");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(work.join(".helmcfg")).unwrap();
    std::fs::write(
        work.join(".helmcfg/repositories.yaml"),
        "apiVersion: \"\"\nrepositories:\n- name: a\n  url: http://127.0.0.1:1/a\n- name: b\n  url: http://127.0.0.1:1/b\n- name: c\n  url: http://127.0.0.1:1/c\n",
    )
    .unwrap();
    let cv = |name: &str, v: &str, extra: &str| {
        format!("  - name: {name}\n    version: {v}\n    urls: [{name}-{v}.tgz]\n{extra}")
    };
    std::fs::write(
        cache.join("a-index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  nginx:\n{}{}{}  proxy:\n{}  tool:\n{}",
            cv("nginx", "1.0.0", "    description: web server\n"),
            cv("nginx", "3.0.0-beta.1", "    description: web server\n"),
            cv("nginx", "2.0.0", "    description: web server\n"),
            cv(
                "proxy",
                "1.0.0",
                "    description: an nginx proxy\n    keywords: [edge]\n"
            ),
            cv("tool", "0.1.0", "    keywords: [nginx]\n"),
        ),
    )
    .unwrap();
    std::fs::write(
        cache.join("b-index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  nginx:\n{}",
            cv(
                "nginx",
                "5.0.0",
                "    description: Bitnami NGINX\n    appVersion: \"1.25\"\n"
            )
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut a = vec!["search", "repo"];
        a.extend_from_slice(args);
        let o = helm(work, &a, &[], None);
        (o.status.code(), stdout(&o), stderr(&o))
    };
    let j = |rows: &[(&str, &str, &str, &str)]| {
        let items: Vec<String> = rows
            .iter()
            .map(|(n, v, a, d)| {
                format!("{{\"name\":\"{n}\",\"version\":\"{v}\",\"app_version\":\"{a}\",\"description\":\"{d}\"}}")
            })
            .collect();
        format!("[{}]\n", items.join(","))
    };
    let (code, out, err) = run(&["nginx", "-o", "json"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        j(&[
            ("a/nginx", "2.0.0", "", "web server"),
            ("b/nginx", "5.0.0", "1.25", "Bitnami NGINX"),
            ("a/proxy", "1.0.0", "", "an nginx proxy"),
            ("a/tool", "0.1.0", "", ""),
        ])
    );
    let cache_c = cache.join("c-index.yaml");
    assert_eq!(
        err,
        format!(
            "level=WARN msg=\"repo is corrupt or missing\" repo=c error=\"open {}: no such file or directory\"\n",
            cache_c.display()
        )
    );
    let (_, out, _) = run(&["NGINX", "--devel", "-o", "json"]);
    assert!(
        out.starts_with(&j(&[("a/nginx", "3.0.0-beta.1", "", "web server")])[..80]),
        "{out}"
    );
    let (_, out, _) = run(&["a/nginx", "--versions", "-o", "json"]);
    assert_eq!(
        out,
        j(&[
            ("a/nginx", "2.0.0", "", "web server"),
            ("a/nginx", "1.0.0", "", "web server"),
        ])
    );
    let (_, out, _) = run(&["web", "--version", "<2"]);
    assert_eq!(
        out,
        "NAME   \tCHART VERSION\tAPP VERSION\tDESCRIPTION\na/nginx\t1.0.0        \t           \tweb server \n"
    );
    // `^` anchors at the line's start, which is the chart's name: no match, an empty list
    let (_, out, _) = run(&["^b/", "-r", "-o", "yaml"]);
    assert_eq!(out, "[]\n");
    let (_, out, _) = run(&["b/", "-o", "yaml"]);
    assert_eq!(
        out,
        "- app_version: \"1.25\"\n  description: Bitnami NGINX\n  name: b/nginx\n  version: 5.0.0\n"
    );
    let (code, out, err) = run(&["zzz"]);
    assert_eq!((code, out.as_str()), (Some(0), "No results found\n"));
    assert!(err.starts_with("level=WARN"));
    let (code, _, err) = run(&["zzz", "--fail-on-no-result"]);
    assert_eq!(code, Some(1));
    assert!(err.ends_with("Error: no results found\n"), "{err}");
}

/// `helm create NAME --starter S` (chartutil.CreateFrom): the starter from
/// `$HELM_DATA_HOME/starters/S` (or an absolute path) with Helm's fresh Chart.yaml, and
/// `<CHARTNAME>` replaced in templates and values.yaml only; subcharts saved as archives.
#[test]
fn create_from_a_starter_chart() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let st = root.join("data/starters/mystarter");
    mk_chart(
        &st,
        "mystarter",
        "9.9.9",
        "description: the starter\nkeywords: [x]\n",
    );
    std::fs::write(
        st.join("templates/cm.yaml"),
        "name: {{ include \"<CHARTNAME>.fullname\" . }}\n",
    )
    .unwrap();
    std::fs::write(
        st.join("values.yaml"),
        "# <CHARTNAME> values\nimage: <CHARTNAME>\n",
    )
    .unwrap();
    std::fs::write(st.join("README.md"), "about <CHARTNAME>\n").unwrap();
    mk_chart(&st.join("charts/sub"), "sub", "0.2.0", "");
    let env = [(
        "HELM_DATA_HOME",
        root.join("data").to_str().unwrap().to_string(),
    )];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = helm(
        root,
        &["create", "web", "--starter", "mystarter"],
        &env,
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Creating web\n");
    let read = |p: &str| std::fs::read_to_string(root.join("web").join(p)).unwrap();
    assert_eq!(
        read("Chart.yaml"),
        "apiVersion: v2\nappVersion: 0.1.0\ndescription: A Helm chart for Kubernetes\nname: web\ntype: application\nversion: 0.1.0\n"
    );
    assert_eq!(
        read("templates/cm.yaml"),
        "name: {{ include \"web.fullname\" . }}\n"
    );
    assert_eq!(read("values.yaml"), "# web values\nimage: web\n");
    assert_eq!(read("README.md"), "about <CHARTNAME>\n");
    let sub = std::fs::read(root.join("web/charts/sub-0.2.0.tgz")).unwrap();
    assert_eq!(&sub[..2], &[0x1f, 0x8b]);
    // an absolute starter path; a missing starter is Helm's load error
    let o = helm(
        root,
        &["create", "api", "-p", st.to_str().unwrap()],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(root.join("api/templates/cm.yaml").is_file());
    let o = helm(root, &["create", "x", "--starter", "nope"], &env, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!(
            "Error: could not load {}: ",
            root.join("data/starters/nope").display()
        )),
        "{}",
        stderr(&o)
    );
}

/// `helm show values --jsonpath`: client-go's JSONPath over the chart's values (scalars as
/// text, maps as compact JSON, results of one action joined by a space); a template that
/// does not parse is Helm's error; an action that fails prints nothing.
#[test]
fn show_values_jsonpath() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    mk_chart(&root.join("c"), "c", "0.1.0", "");
    std::fs::write(
        root.join("c/values.yaml"),
        "image:\n  repository: nginx\n  tag: \"1.25\"\nports:\n- name: http\n  port: 80\n- name: https\n  port: 443\n",
    )
    .unwrap();
    let show = |t: &str| {
        let o = helm(root, &["show", "values", "c", "--jsonpath", t], &[], None);
        (o.status.code(), stdout(&o), stderr(&o))
    };
    assert_eq!(
        show("{.image.repository}:{.image.tag}"),
        (Some(0), "nginx:1.25".into(), String::new())
    );
    assert_eq!(
        show("{range .ports[*]}{.name}={.port}{\"\\n\"}{end}"),
        (Some(0), "http=80\nhttps=443\n".into(), String::new())
    );
    assert_eq!(show("{.ports[*].port}").1, "80 443");
    assert_eq!(
        show("{.image}").1,
        "{\"repository\":\"nginx\",\"tag\":\"1.25\"}"
    );
    assert_eq!(show("{.nope}"), (Some(0), String::new(), String::new()));
    let (code, out, err) = show("{.image");
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(
        err.starts_with("Error: error parsing jsonpath {.image: "),
        "{err}"
    );
}
