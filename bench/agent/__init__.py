"""The agent suite (`edgefc bench --suite agent --tasks FILE`): tasks run through edgefc's Agent and judged by
their checks (tasks.py reads the file, toolsets.py opens the tools, runner.py runs one task, checks.py judges,
score.py and report.py sum up)."""
