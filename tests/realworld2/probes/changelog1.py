probe('secret-summary', """version: '3'
vars:
  TOKEN: {value: abc123, secret: true}
tasks:
  a:
    cmds: ['echo {{.TOKEN}}']
""", ['--summary', 'a'])
probe('secret-run', """version: '3'
vars:
  TOKEN: {value: abc123, secret: true}
tasks:
  a:
    cmds: ['echo {{.TOKEN}}']
""", ['a'])
probe('abspath', """version: '3'
tasks:
  a:
    cmds: ['echo {{absPath "x/../y"}} {{joinEnv "a" "b"}} {{joinUrl "http://h" "p"}} {{.FILE_PATH_SEPARATOR}} {{.PATH_LIST_SEPARATOR}}']
""", ['a'])
probe('enum-ref', """version: '3'
vars:
  ENVS: [dev, prod]
tasks:
  a:
    requires:
      vars:
        - name: E
          enum: {ref: .ENVS}
    cmds: ['echo {{.E}}']
""", ['a', 'E=stage'])
probe('if-task', """version: '3'
tasks:
  a:
    if: '{{eq .X "1"}}'
    cmds: ['echo ran']
  b:
    cmds:
      - cmd: echo one
        if: 'false'
      - task: a
      - echo two
""", ['b'])
probe('alias-wildcard', """version: '3'
tasks:
  start-*:
    aliases: [s-*]
    cmds: ['echo start {{index .MATCH 0}}']
""", ['s-foo'])
probe('failfast', """version: '3'
tasks:
  a:
    deps: [b, c]
    cmds: ['echo a']
  b: {cmds: ['exit 3']}
  c: {cmds: ['sleep 0.2', 'echo c']}
""", ['a'])
probe('cli-assume-yes', """version: '3'
tasks:
  a:
    cmds: ['echo {{.CLI_ASSUME_YES}} {{.CLI_FORCE}} {{.CLI_SILENT}} {{.CLI_VERBOSE}}']
""", ['--yes', 'a'])
probe('list-json-nested', """version: '3'
includes:
  ns: ./ns.yml
tasks:
  a: {desc: A, cmds: [echo a]}
""", ['--list', '--json', '--nested'], {'ns.yml': "version: '3'\ntasks:\n  b: {desc: B, cmds: [echo b]}\n"})
probe('toyaml', """version: '3'
vars:
  M: {map: {a: 1, b: [x, y]}}
tasks:
  a:
    cmds: ['echo "{{toYaml .M}}"', 'echo {{(fromYaml "k: v").k}}']
""", ['a'])
probe('cli-args-list', """version: '3'
tasks:
  a:
    cmds: ['echo {{.CLI_ARGS_LIST}} {{len .CLI_ARGS_LIST}}']
""", ['a', '--', 'x', 'y z'])
probe('for-generates', """version: '3'
tasks:
  a:
    generates: ['*.txt']
    cmds:
      - for: generates
        cmd: echo {{.ITEM}}
""", ['a'], {'x.txt': '1', 'y.txt': '2'})
probe('wildcard-multi', """version: '3'
tasks:
  'x-*':
    cmds: ['echo x {{index .MATCH 0}}']
  'x-*-*':
    cmds: ['echo xx']
""", ['x-a-b'])
probe('excludes-ns', """version: '3'
includes:
  inc:
    taskfile: ./inc.yml
    excludes: ['sub:*', b]
tasks:
  a: {cmds: [echo a]}
""", ['--list-all'], {'inc.yml': "version: '3'\nincludes:\n  sub: ./sub.yml\ntasks:\n  b: {cmds: [echo b]}\n  c: {cmds: [echo c]}\n", 'sub.yml': "version: '3'\ntasks:\n  d: {cmds: [echo d]}\n"})
probe('task-dir', """version: '3'
tasks:
  a:
    dir: sub
    cmds: ['echo {{.TASK_DIR}} {{.TASKFILE}} {{.TASKFILE_DIR}} {{.ROOT_TASKFILE}} {{.ROOT_DIR}} {{.USER_WORKING_DIR}} {{.TASK}}']
""", ['a'])
probe('defer-silent', """version: '3'
tasks:
  a:
    cmds:
      - defer: {cmd: echo deferred, silent: true}
      - echo main
""", ['a'])
probe('cmd-timeout', """version: '3'
tasks:
  a:
    cmds:
      - cmd: sleep 5
        timeout: 200ms
""", ['a'])
probe('verbose-fail', """version: '3'
tasks:
  a:
    cmds: ['exit 2']
""", ['--verbose', 'a'])
probe('prefixed-prefix', """version: '3'
output: prefixed
tasks:
  a:
    prefix: PFX
    cmds: ['echo hi']
""", ['a'])
probe('sort-none', """version: '3'
tasks:
  b: {desc: B}
  a: {desc: A}
""", ['--list', '--sort', 'none'])
probe('matrix-ref', """version: '3'
vars:
  OS: [linux, darwin]
tasks:
  a:
    cmds:
      - for:
          matrix:
            OS: {ref: .OS}
            ARCH: [amd64]
        cmd: echo {{.ITEM.OS}}-{{.ITEM.ARCH}}
""", ['a'])
probe('ignore-error-call', """version: '3'
tasks:
  a:
    cmds:
      - task: b
        ignore_error: true
      - echo after
  b: {cmds: ['exit 1']}
""", ['a'])
probe('numcpu', """version: '3'
tasks:
  a: {cmds: ['echo {{gt numCPU 0}}']}
""", ['a'])
probe('multi-prompt', """version: '3'
tasks:
  a:
    prompt: [one?, two?]
    cmds: ['echo ran']
""", ['a'])
probe('exit-code-defer', """version: '3'
tasks:
  a:
    cmds:
      - defer: echo code={{.EXIT_CODE}}
      - exit 4
""", ['a'])
probe('alias-var', """version: '3'
tasks:
  a:
    aliases: [b]
    cmds: ['echo {{.ALIAS}}']
""", ['b'])
probe('flatten', """version: '3'
includes:
  inc: {taskfile: ./inc.yml, flatten: true}
tasks:
  a: {desc: A, cmds: [echo a]}
""", ['--list-all'], {'inc.yml': "version: '3'\ntasks:\n  b: {desc: B, cmds: [echo b]}\n"})
probe('task-exe', """version: '3'
tasks:
  a: {cmds: ['echo {{.TASK_EXE}} {{.TASK_VERSION}}']}
""", ['a'])
probe('ref-var', """version: '3'
vars:
  L: [a, b]
tasks:
  a:
    vars:
      R: {ref: .L}
    cmds: ['echo {{.R}} {{index .R 1}}']
""", ['a'])
probe('spew-merge', """version: '3'
vars:
  A: {map: {x: 1}}
  B: {map: {y: 2}}
tasks:
  a: {cmds: ['echo {{merge .A .B}}']}
""", ['a'])
probe('sources-exclude', """version: '3'
tasks:
  a:
    sources: ['*.txt', {exclude: b.txt}]
    generates: [out]
    cmds: ['echo ran', 'touch out']
""", ['--list-all', '--json'], {'a.txt': '1', 'b.txt': '2'})
probe('no-status', """version: '3'
tasks:
  a:
    status: ['false']
    cmds: [echo a]
""", ['--list', '--json', '--no-status'])
probe('watch-prop', """version: '3'
tasks:
  a:
    desc: A
    watch: true
    cmds: [echo a]
""", ['--list-all', '--json'])
probe('exit-107', """tasks:
  a: {cmds: [echo a]}
""", ['a'])
probe('single-cmd', """version: '3'
tasks:
  a:
    cmd: echo single
""", ['a'])
probe('silent-call', """version: '3'
tasks:
  a:
    cmds:
      - task: b
        silent: true
  b: {cmds: [echo b]}
""", ['a'])
probe('json-location', """version: '3'
tasks:
  a:
    desc: A
    aliases: [x]
    cmds: [echo a]
""", ['--list', '--json'])
probe('group-error-only', """version: '3'
output:
  group:
    begin: 'BEGIN {{.TASK}}'
    end: 'END {{.TASK}}'
    error_only: true
tasks:
  a: {cmds: [echo a]}
""", ['a'])
probe('platforms', """version: '3'
tasks:
  a:
    cmds:
      - cmd: echo win
        platforms: [windows]
      - cmd: echo lin
        platforms: [linux/amd64, linux]
""", ['a'])
probe('taskdotenv', """version: '3'
tasks:
  a:
    dotenv: ['.env']
    cmds: ['echo $FOO']
""", ['a'], {'.env': 'FOO=bar\n'})
probe('optional-include', """version: '3'
includes:
  x: {taskfile: ./missing.yml, optional: true}
tasks:
  a: {cmds: [echo a]}
""", ['a'])
probe('run-once', """version: '3'
tasks:
  a:
    deps: [b, b]
    cmds: [{task: b}, echo a]
  b:
    run: once
    cmds: [echo b]
""", ['a'])
probe('interactive-json', """version: '3'
tasks:
  a:
    interactive: true
    desc: A
    cmds: [echo a]
""", ['--list-all', '--json'])
probe('exit-code-flag', """version: '3'
tasks:
  a: {cmds: ['exit 7']}
""", ['-x', 'a'])
probe('taskrc', """version: '3'
tasks:
  a: {cmds: ['echo hi']}
""", ['a'], {'.taskrc.yml': 'verbose: true\n'})
probe('github-annotation', """version: '3'
tasks:
  a: {cmds: ['exit 3']}
""", ['a'], {}, {'GITHUB_ACTIONS': 'true'})
probe('temp-dir', """version: '3'
tasks:
  a:
    sources: [a.txt]
    cmds: [echo a]
""", ['--temp-dir', 'tmpx', 'a'], {'a.txt': 'x'})
probe('use-gitignore', """version: '3'
use_gitignore: true
tasks:
  a:
    sources: ['*.txt']
    cmds: [echo a]
""", ['--list-all', '--json'], {'a.txt': 'x', '.gitignore': 'b.txt\n', 'b.txt': 'y'})
probe('disable-fuzzy', """version: '3'
tasks:
  build: {cmds: [echo a]}
""", ['--disable-fuzzy', 'buidl'])
probe('fuzzy', """version: '3'
tasks:
  build: {cmds: [echo a]}
""", ['buidl'])
