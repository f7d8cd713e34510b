"""Stack labels: converged solves beside the physics, the same whatever the workers, each case
drawn again from the seed its record keeps."""
import json

import numpy as np

from hotspot_ml.stack_labels import label_stacks
from hotspot_ml.stacks import random_stack


def test_labels_do_not_depend_on_workers_and_cases_redraw_from_their_seed(tmp_path):
    a = label_stacks(3, 4, tmp_path / "a", workers=1, progress=False, points=17, tol=5e-2, blocks=10)
    label_stacks(3, 4, tmp_path / "b", workers=2, progress=False, points=17, tol=5e-2, blocks=10)
    la, lb = np.load(tmp_path / "a" / "labels.npz"), np.load(tmp_path / "b" / "labels.npz")
    np.testing.assert_array_equal(la["physics"], lb["physics"])
    np.testing.assert_allclose(la["solved"], lb["solved"], rtol=1e-6, equal_nan=True)
    doc = json.loads((tmp_path / "a" / "cases.json").read_text())
    assert doc["format"] == "thermesh-stack-labels" and len(doc["cases"]) == 3
    for case, record in zip(a, doc["cases"]):
        assert "error" not in case and record["energy_balance_rel"] < 1e-9
        seq = np.random.SeedSequence(int(record["entropy"]), spawn_key=tuple(record["spawn_key"]))
        fp, stack = random_stack(np.random.default_rng(seq), blocks=10)
        assert len(stack.power_layers) == record["power_layers"] and len(fp.names) == record["blocks"]
        faces = la["solved"][record["index"], :record["power_layers"], :record["ny"], :record["nx"]]
        assert np.isfinite(faces).all() and np.isnan(la["solved"][record["index"], record["power_layers"]:]).all()
        assert len(record["physics_max_error_pct"]) == record["power_layers"]
