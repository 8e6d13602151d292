probe('unknown-cmd-key', """version: '3'
tasks:
  a:
    cmds:
      - cmd: echo a
        foo: 1
""", ['a'])
probe('unknown-task-key', """version: '3'
tasks:
  a:
    foo: 1
    cmds: [echo a]
""", ['a'])
probe('unknown-dep-key', """version: '3'
tasks:
  a:
    deps: [{task: b, foo: 1}]
    cmds: [echo a]
  b: {cmds: [echo b]}
""", ['a'])
probe('unknown-top-key', """version: '3'
foo: 1
tasks:
  a: {cmds: [echo a]}
""", ['a'])
probe('unknown-include-key', """version: '3'
includes:
  x: {taskfile: ./x.yml, foo: 1}
tasks:
  a: {cmds: [echo a]}
""", ['a'], {'x.yml': "version: '3'\ntasks: {}\n"})
probe('defer-map-task', """version: '3'
tasks:
  a:
    cmds:
      - defer: {task: b, silent: true, vars: {X: 1}}
      - echo main
  b: {cmds: ['echo b {{.X}}']}
""", ['a'])
probe('defer-map-defer', """version: '3'
tasks:
  a:
    cmds:
      - defer: {defer: echo inner}
        silent: true
      - echo main
""", ['a'])
probe('defer-outer-silent', """version: '3'
tasks:
  a:
    cmds:
      - defer: echo d
        silent: true
      - echo main
""", ['a'])
probe('defer-inner-timeout', """version: '3'
tasks:
  a:
    cmds:
      - defer: {defer: echo d, timeout: 1s}
      - echo main
""", ['a'])
probe('defer-task-plus-cmd', """version: '3'
tasks:
  a:
    cmds:
      - defer: echo d
        task: b
      - echo main
  b: {cmds: [echo b]}
""", ['a'])
probe('cmd-empty-map', """version: '3'
tasks:
  a:
    cmds:
      - silent: true
      - echo main
""", ['a'])
