import json

from hotspot_ml.model import load_model
from hotspot_ml.train import train


def test_train_small_writes_model_and_card(tmp_path):
    card = train(5, seed=3, out=tmp_path / "m.skops", workers=1, progress=False, max_iter=5)
    model, loaded = load_model(tmp_path / "m.skops")
    assert loaded["sha256"] == card["sha256"]
    assert loaded["validation_cases"] == 1 and loaded["train_cases"] == 4
    assert set(loaded["validation"]) == {"model", "series_only"}
    (row,) = loaded["validation_per_case"]  # the one held-out case, model beside series
    assert row["case"] == 4 and set(row["max_error_pct"]) == {"model", "series_only"}
    assert row["max_error_pct"]["series_only"] == loaded["validation"]["series_only"]["median_max_error_pct"]
    assert json.loads((tmp_path / "m.json").read_text())["samples"] == 5
