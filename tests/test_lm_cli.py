"""`python -m cl_helpers llm`: bad input gets one line and exit code 2, before any training."""
import pytest

from cl_helpers.cli import main


@pytest.mark.parametrize("argv, fragment", [
    (["llm", "--methods", "full,qlora"], "unknown method 'qlora'"),
    (["llm", "--methods", "full,full"], "names a method twice"),
    (["llm", "--methods", "replay,self_instruct"], "'self_instruct' was renamed 'self_replay'"),
    (["llm", "--steps", "0"], "steps 0 is out of range"),
    (["llm", "--replay-fraction", "1.5"], "replay fraction"),
    (["llm", "--lora-rank", "0"], "lora rank 0 is out of range"),
    (["llm", "--rank", "0"], "lora rank 0 is out of range"),   # the option's earlier name
    (["llm", "--ewc-lam", "-1"], "ewc lam -1 is out of range"),
    (["llm", "--methods", "full,lora", "--ewc-lam", "5"], "--ewc-lam given but ewc is not in --methods full,lora"),
    (["llm", "--json", "/no/such/folder/r.json"], "does not exist"),
    (["llm", "--model", "smollm2", "--plot", "r.png"], "--plot is for --model toy"),
    (["llm", "--model", "smollm2", "--json", "/no/such/folder/r.json"], "does not exist"),
])
def test_bad_input_one_line_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1


def test_bad_type_from_argparse_is_exit_2_too(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["llm", "--steps", "many"])
    assert exc.value.code == 2 and "invalid int value: 'many'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["llm", "--model", "gpt2"])
    assert exc.value.code == 2 and "invalid choice: 'gpt2'" in capsys.readouterr().err


def test_method_options_are_made_from_the_params_as_compare_makes_them(capsys):
    for command, option, default in (("llm", "--ewc-lam", "10000.0"), ("compare", "--ewc-lam", "300.0")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert option in text and f"(default {default})" in text
    with pytest.raises(SystemExit):
        main(["llm", "--help"])
    text = capsys.readouterr().out
    for option in ("--lora-rank", "--lora-alpha", "--replay-fraction", "--self-replay-fraction",
                   "--safety-data-fraction", "--ewc-lam", "--kl-alpha"):
        assert option in text
    assert "--ewc-lambda" not in text and "--kl-weight" not in text   # the earlier names work, unlisted


def configs(argv):
    from cl_helpers.cli import build_parser
    from cl_helpers.lm.cli import configs_from_args

    return {c.method: dict(c.hparams) for c in configs_from_args(build_parser().parse_args(["llm", *argv]))}


def test_each_method_gets_its_own_options_and_the_defaults_otherwise():
    got = configs(["--lora-rank", "2", "--lora-alpha", "3", "--ewc-lam", "5", "--kl-alpha", "0.5",
                   "--self-replay-fraction", "0.1"])
    assert got == {"full": {}, "lora": {"rank": 2, "alpha": 3.0}, "replay": {"fraction": 0.05},
                   "self_replay": {"fraction": 0.1}, "safety_data": {"fraction": 0.05}, "ewc": {"lam": 5.0},
                   "kl": {"alpha": 0.5}}


def test_the_earlier_option_names_still_work():
    got = configs(["--rank", "2", "--ewc-lambda", "5", "--kl-weight", "0.5", "--replay-fraction", "0.1"])
    assert got["lora"] == {"rank": 2, "alpha": None} and got["ewc"] == {"lam": 5.0} and got["kl"] == {"alpha": 0.5}
    # --replay-fraction is now replay's own option, as --self-replay-fraction and --safety-data-fraction are theirs
    assert got["replay"] == {"fraction": 0.1} and got["self_replay"] == got["safety_data"] == {"fraction": 0.05}
