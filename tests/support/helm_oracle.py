"""Oracle for tests/helm_template.rs and tests/helm_lint.rs: Helm v4.2.3 (helm-python-sdk).

Usage: helm_oracle.py render CHART NAME NAMESPACE VALUES_JSON
       helm_oracle.py lint CHART VALUES_JSON OPTS_JSON
Prints one JSON object: {"manifest": str, "templates": {path: text}} or {"error": str};
for lint the SDK's report.
"""
import json
import sys

import helm_python as helm


def main():
    cmd = sys.argv[1]
    if cmd == "render":
        chart, name, ns, vals = sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
        out = {}
        try:
            c = helm.Chart.load(chart)
            cfg = helm.Config(storage_driver="memory", namespace=ns)
            rel = cfg.install(c, name, vals or None, dry_run="client", namespace=ns)
            out["manifest"] = rel.get("manifest", "")
            out["templates"] = c.render(vals or None, name=name, namespace=ns, revision=1, is_install=True)
        except helm.HelmError as e:  # noqa
            out["error"] = str(e)
        print(json.dumps(out))
    elif cmd == "lint":
        chart, vals, opts = sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
        try:
            print(json.dumps(helm.lint(chart, vals or None, **opts)))
        except helm.HelmError as e:  # noqa
            print(json.dumps({"error": str(e)}))


main()
