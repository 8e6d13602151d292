probe('taskrc-env-override', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['a'], {'.taskrc.yml': 'verbose: false\n'}, {'TASK_VERBOSE': 'true'})
probe('silent-include', """version: '3'
includes:
  inc: {taskfile: ./inc.yml, silent: true}
tasks:
  a: {cmds: [{task: inc:b}]}
""", ['a'], {'inc.yml': "version: '3'\ntasks:\n  b: {cmds: [echo b]}\n  c: {silent: false, cmds: [echo c]}\n"})
probe('failfast-flag', """version: '3'
tasks:
  a:
    deps: [b, c]
    cmds: ['echo a']
  b: {cmds: ['exit 3']}
  c: {cmds: ['sleep 1', 'echo c']}
""", ['--failfast', 'a'])
probe('failfast-task', """version: '3'
tasks:
  a:
    failfast: true
    deps: [b, c]
    cmds: ['echo a']
  b: {cmds: ['exit 3']}
  c: {cmds: ['sleep 1', 'echo c']}
""", ['a'])
probe('completion-nu', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['--completion', 'nu'])
probe('task-output-env', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['a'], {}, {'TASK_OUTPUT': 'prefixed'})
probe('task-temp-dir-env', """version: '3'
tasks:
  a:
    sources: [a.txt]
    cmds: [echo a]
""", ['a'], {'a.txt': 'x'}, {'TASK_TEMP_DIR': 'tmpy'})
probe('ci-color', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['a'], {}, {'CI': 'true', 'NO_COLOR': ''})
probe('force-color', """version: '3'
tasks:
  a: {desc: A, cmds: ['echo hi']}
""", ['--list'], {}, {'FORCE_COLOR': '1', 'NO_COLOR': ''})
probe('shellquote', """version: '3'
tasks:
  a: {cmds: ["echo {{q \\"it's\\"}} {{shellQuote \\"a b\\"}} {{splitArgs \\"x 'y z'\\"}}"]}
""", ['a'])
probe('spew', """version: '3'
vars:
  L: [1, two]
tasks:
  a: {cmds: ["echo '{{spew .L}}'"]}
""", ['a'])
probe('when-changed', """version: '3'
tasks:
  a:
    cmds: [{task: b, vars: {X: 1}}, {task: b, vars: {X: 1}}, {task: b, vars: {X: 2}}]
  b:
    run: when_changed
    cmds: ['echo b {{.X}}']
""", ['a'])
probe('dotenv-interp', """version: '3'
env:
  ENV: dev
dotenv: ['.env.{{.ENV}}']
tasks:
  a: {cmds: ['echo $FOO']}
""", ['a'], {'.env.dev': 'FOO=devfoo\n'})
probe('set-shopt', """version: '3'
set: [pipefail]
shopt: [globstar]
tasks:
  a: {cmds: ['false | true; echo after']}
""", ['a'])
probe('checksum-pin', """version: '3'
includes:
  inc: {taskfile: ./inc.yml, checksum: abc}
tasks:
  a: {cmds: [echo a]}
""", ['a'], {'inc.yml': "version: '3'\ntasks: {}\n"})
probe('init', """version: '3'
""", ['--init', 'sub/My.yml'])
probe('experiments', """version: '3'
tasks: {}
""", ['--experiments'])
probe('empty-cmd-template', """version: '3'
tasks:
  a: {cmds: ['{{if false}}x{{end}}', 'echo after']}
""", ['a'])
probe('summary-empty-defer', """version: '3'
tasks:
  a:
    cmds:
      - defer: {cmd: echo d}
      - echo main
""", ['--summary', 'a'])
probe('dry-verbose', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['-n', '-v', 'a'])
probe('json-list-noitems', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['--list', '--json'])
probe('var-empty-hash', """version: '3'
vars:
  E: {}
tasks:
  a: {cmds: ['echo {{.E}}']}
""", ['a'])
probe('include-tilde', """version: '3'
includes:
  h: ~/inc.yml
tasks:
  a: {cmds: [{task: h:b}]}
""", ['a'], {'inc.yml': "version: '3'\ntasks:\n  b: {cmds: [echo b]}\n"})
probe('version-2', """version: '2'
tasks:
  a: {cmds: ['echo hi']}
""", ['a'])
probe('status-flag', """version: '3'
tasks:
  a:
    status: ['test -f x']
    cmds: ['touch x']
""", ['--status', 'a'])
probe('global-method-invalid', """version: '3'
method: foo
tasks:
  a: {desc: A, cmds: ['echo hi']}
""", ['--list', '--json'])
probe('global-method-invalid-run', """version: '3'
method: foo
tasks:
  a: {desc: A, cmds: ['echo hi']}
""", ['a'])
