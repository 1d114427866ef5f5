"""End-to-end training examples: the beginner MLP (examples/seed_example.py) and the character
GPT (examples/char_lm.py) both learn, on every device."""

import importlib.util
import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def load_example(name):
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_example_fits_its_two_points(device):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "seed_example.py"), "--device", device],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"Final loss: (\S+)", result.stdout)
    assert match, result.stdout
    assert float(match.group(1)) < 0.01


def test_char_lm_learns_and_samples(device):
    char_lm = load_example("char_lm")
    model, tokenizer, losses = char_lm.train(
        steps=40,
        batch_size=8,
        block_size=16,
        n_layer=1,
        n_head=2,
        n_embd=32,
        lr=3e-3,
        seed=0,
        device=device,
        verbose=False,
    )
    assert len(losses) == 40
    # Untrained, the model is near uniform over ~100 characters (ln 100 ~ 4.6); 40 steps learn at
    # least the character frequencies. The tail is averaged because batches of 8 are noisy.
    tail = sum(losses[-5:]) / 5
    assert tail < 0.8 * losses[0], (losses[0], tail)

    for greedy in (False, True):
        text = char_lm.sample(
            model, tokenizer, prompt="def ", length=30, device=device, greedy=greedy
        )
        assert isinstance(text, str)
        assert len(text) == 30
        assert set(text) <= set(tokenizer.chars)
