"""The README's Python examples run as written (a renamed function or a changed shape in the
library breaks this test, not a new user's first try)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_readme_example_runs(code):
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
