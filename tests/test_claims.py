"""Tests of trainlab.claims: assert at the reference scale, report (never fail) anywhere else."""

import json

import pytest

from trainlab import claims

REF = claims.Scale(train_size=100, valid_size=50, batch_size=32, epochs=2, seeds=(0, 1, 2))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in (claims.SEED_OFFSET_VAR, claims.SCALE_VAR, claims.RECORD_VAR):
        monkeypatch.delenv(var, raising=False)


def test_at_the_reference_scale_a_false_claim_fails(capsys):
    check = claims.Checker("t", claims.current(REF), REF)
    assert check.at_reference
    assert check("x is large", 3.0, above=1.0)
    assert "✓ x is large: 3.000 (claim: > 1)" in capsys.readouterr().out
    assert check("x is near 1", 1.0, above=0.9999, below=1.0001)  # bounds print as given, not rounded
    assert "(claim: > 0.9999 and < 1.0001)" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="x is small.*measured 3.000"):
        check("x is small", 3.0, below=1.0)
    with pytest.raises(AssertionError):
        check("nan is never within bounds", float("nan"), above=0.0)
    with pytest.raises(AssertionError):
        check("a qualitative claim", False)
    import numpy as np
    assert check("numpy scalars print like floats", np.float32(0.0028538732), above=0.001)
    assert "numpy scalars print like floats: 0.00285 " in capsys.readouterr().out


def test_at_another_scale_it_reports_the_reference_value(monkeypatch, tmp_path, capsys):
    reference_file = tmp_path / "ref.json"
    reference_file.write_text(json.dumps({"t": {"x is small": 0.5}}))
    monkeypatch.setattr(claims, "REFERENCE_FILE", reference_file)
    check = claims.Checker("t", claims.current(REF, train_size=None, epochs=10), REF)
    assert not check.at_reference
    assert not check("x is small", 3.0, below=1.0, look_for="x grows with data")
    out = capsys.readouterr().out
    assert "yours 3.000" in out and "reference run: 0.500" in out and "x grows with data" in out


def test_shifted_seeds_still_assert_but_hand_picked_seeds_report(monkeypatch):
    monkeypatch.setenv(claims.SEED_OFFSET_VAR, "100")
    scale = claims.current(REF)
    assert scale.seeds == (100, 101, 102) and scale.seed == 100
    assert claims.Checker("t", scale, REF).at_reference
    assert not claims.Checker("t", claims.current(REF, seeds=(7, 8, 9)), REF).at_reference


def test_environment_overrides_sizes(monkeypatch):
    monkeypatch.setenv(claims.SCALE_VAR, "train_size=None, epochs=10, seeds=4:5")
    scale = claims.current(REF)
    assert (scale.train_size, scale.epochs, scale.seeds) == (None, 10, (4, 5))
    assert not claims.Checker("t", scale, REF).at_reference
    monkeypatch.setenv(claims.SCALE_VAR, "epoch=3")
    with pytest.raises(ValueError, match="cannot read 'epoch=3'"):
        claims.current(REF)
    monkeypatch.setenv(claims.SCALE_VAR, "")
    monkeypatch.setenv(claims.SEED_OFFSET_VAR, "ten")
    with pytest.raises(ValueError, match="must be an integer"):
        claims.current(REF)


def test_checks_record_their_values_for_the_reference_file(monkeypatch, tmp_path):
    record = tmp_path / "rec.json"
    monkeypatch.setenv(claims.RECORD_VAR, str(record))
    check = claims.Checker("nb", claims.current(REF), REF)
    check("y", 0.25, above=0.1)
    check("z", True)
    assert json.loads(record.read_text()) == {"nb": {"y": 0.25, "z": True}}


def test_bad_scales_are_refused():
    with pytest.raises(ValueError, match="epochs"):
        claims.Scale(train_size=10, valid_size=5, batch_size=4, epochs=0, seeds=(0,))
    with pytest.raises(ValueError, match="seeds"):
        claims.Scale(train_size=10, valid_size=5, batch_size=4, epochs=1, seeds=())
    with pytest.raises(ValueError, match="train_size"):
        claims.Scale(train_size=0, valid_size=5, batch_size=4, epochs=1, seeds=(0,))


def test_part_4_overfits_on_purpose_with_a_small_training_set():
    assert claims.PART_4.train_size < claims.PART_3.train_size
    assert claims.PART_4.seeds == (0, 1, 2)
