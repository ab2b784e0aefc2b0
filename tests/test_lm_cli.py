"""`python -m cl_helpers llm`: bad input gets one line and exit code 2, before any training."""
import pytest

from cl_helpers.cli import main


@pytest.mark.parametrize("argv, fragment", [
    (["llm", "--methods", "full,qlora"], "unknown method 'qlora'"),
    (["llm", "--methods", "full,full"], "names a method twice"),
    (["llm", "--steps", "0"], "steps 0 is out of range"),
    (["llm", "--replay-fraction", "1.5"], "replay fraction"),
    (["llm", "--rank", "0"], "LoRA rank 0"),
    (["llm", "--json", "/no/such/folder/r.json"], "does not exist"),
])
def test_bad_input_one_line_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1


def test_bad_type_from_argparse_is_exit_2_too(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["llm", "--steps", "many"])
    assert exc.value.code == 2 and "invalid int value: 'many'" in capsys.readouterr().err
