"""The README's three-line pandas example, run as written beside a real writer's data."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.integration.client.conftest import SYMBOL, Stored
from tests.support.processes import REPO


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## History for analysts") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_gets_the_last_hour_into_pandas_in_three_lines(stored: Stored, tmp_path: Path):
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) == 3  # three lines of code
    check = (
        "\nprint(len(df), df['symbol'].iloc[0], type(df['bid_price'].iloc[0]).__name__,"
        " str(df['time'].dtype))\n"
    )
    workdir = stored.writer.data_dir.parent  # the example opens "data", as after `make demo`
    assert stored.writer.data_dir.name == "data"

    done = subprocess.run(
        [sys.executable, "-c", code + check],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    rows, symbol, amount_type, time_type = done.stdout.split(maxsplit=3)
    assert int(rows) >= len(stored.seconds)  # every second stored in the last hour
    assert (symbol, amount_type) == (SYMBOL, "Decimal")
    assert time_type.startswith("datetime64")
