# PowerShell completion for `task` (oxtask; also go-task 3.54). Load with:
#   task --completion powershell | Out-String | Invoke-Expression
# Candidates come from `task __complete WORDS...`: one per line (`value` or
# `value<TAB>description`), then `:N`, N a bitfield: 2 no trailing space, 4 no file
# fallback, 8 the lines are file extensions, 16 directories only, 32 keep the order.
# $env:TASK_EXE names the executable to ask (default: task).

Register-ArgumentCompleter -Native -CommandName task -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $exe = if ($env:TASK_EXE) { $env:TASK_EXE } else { 'task' }
    $words = @($commandAst.CommandElements |
        Select-Object -Skip 1 |
        Where-Object { $_.Extent.StartOffset -lt $cursorPosition } |
        ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -eq '') {
        # Before 7.3, PowerShell dropped empty arguments to native programs.
        $words += if ($PSVersionTable.PSVersion -lt [version]'7.3') { '""' } else { '' }
    }

    $out = @(& $exe __complete @words 2>$null)
    if ($out.Count -eq 0) { return }
    $directive = 0
    [void][int]::TryParse($out[-1].TrimStart(':'), [ref]$directive)
    $lines = if ($out.Count -gt 1) { $out[0..($out.Count - 2)] } else { @() }

    # Files and directories: nothing returned lets PowerShell complete paths itself.
    if ($directive -band 24) { return }

    foreach ($line in $lines) {
        $parts = $line -split "`t", 2
        $value = $parts[0]
        $desc = if ($parts.Count -gt 1 -and $parts[1]) { $parts[1] } else { $value }
        if ($value -like "$wordToComplete*") {
            [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $desc)
        }
    }
}
