"""DP-CTGAN and DP-TVAE end to end on a tiny table: budget honoured, spend split, no rows kept, reproducible."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from opacus.validators import ModuleValidator

from dpsynth_core.generators.deep.common import FittedDeepSynthesizer
from dpsynth_core.generators.deep.ctgan import DPCTGAN, ConditionSampler
from dpsynth_core.generators.deep.networks import TVAE, CTGANDiscriminator, CTGANGenerator
from dpsynth_core.generators.deep.training import make_private_trainer, resolve_device
from dpsynth_core.generators.deep.tvae import DPTVAE

from deep_fixtures import SPEC, TINY, deep_generator, generator_budget, make_frame, private_and_domain

GENERATORS = {"dp-ctgan": DPCTGAN, "dp-tvae": DPTVAE}


def _fit(name, frame=None, seed=1, noise_seed=11, progress=None, **options):
    frame = make_frame(400) if frame is None else frame
    private, domain = private_and_domain(frame, rho=0.5, noise_seed=noise_seed)
    rho_before = private.budget.spent
    generator = deep_generator(GENERATORS[name], seed=seed, progress=progress, **{**TINY, **options})
    fitted = generator.fit(private, domain, generator_budget(private, 0.2))
    return fitted, private, rho_before


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_fit_respects_budget_and_reports_spend_separately(name):
    events = []
    fitted, private, rho_before = _fit(name, progress=lambda kind, info: events.append((kind, info)))
    training = fitted.training_spend
    assert training["epsilon"] <= training["epsilon_target"] == 2.0
    assert training["delta"] == 1e-6 and training["steps"] == fitted.training["steps"] > 0
    assert fitted.epsilon_other == training["epsilon"]
    # preprocessing histograms charged to the zCDP budget, exactly the rho given to fit
    pre = [r for r in private.budget.records if r.step.startswith(f"{name}:preprocess")]
    assert len(pre) == 4 and sum(r.rho for r in pre) == pytest.approx(0.2)
    assert private.budget.spent == pytest.approx(rho_before + 0.2)
    # progress: one event per epoch, epsilon growing up to the achieved value
    epsilons = [info["epsilon_spent"] for kind, info in events if kind == "epoch"]
    assert [info["epoch"] for kind, info in events] == [1, 2]          # TINY: 2 epochs, one event each
    assert epsilons == sorted(epsilons)
    assert epsilons[-1] == pytest.approx(training["epsilon"])
    assert training["rows_source"] == "dp_estimate" and abs(training["rows_for_sample_rate"] - 400) < 100


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_samples_have_the_domain_types_and_round_trip_through_state(name):
    fitted, _, _ = _fit(name)
    sample = fitted.sample(150, seed=4)
    assert list(sample.columns) == ["colour", "size", "age", "flag", "id"]
    assert set(sample["colour"].dropna()) <= {"red", "green", "blue"}
    assert sample["size"].between(0, 100).all()
    assert str(sample["age"].dtype) == "Int64" and sample["id"].is_unique
    meta, arrays = fitted.to_state()
    json.dumps(meta)                                     # JSON only
    prefixes = {key.split(".")[0] for key in arrays}
    assert prefixes == ({"generator"} if name == "dp-ctgan" else {"decoder"})   # no discriminator / encoder
    assert all(a.dtype != object for a in arrays.values())
    restored = FittedDeepSynthesizer.from_state(json.loads(json.dumps(meta)), arrays)
    pd.testing.assert_frame_equal(restored.sample(150, seed=4), sample)
    codes = fitted.sample_codes(20, np.random.default_rng(0))
    assert codes.shape == (20, 4) and (codes < np.array(fitted.domain.shape)).all()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_deterministic_given_seed_and_noise_seed(name):
    a, _, _ = _fit(name, seed=1, noise_seed=11)
    b, _, _ = _fit(name, seed=1, noise_seed=11)
    c, _, _ = _fit(name, seed=1, noise_seed=12)
    for key in a.arrays:
        np.testing.assert_array_equal(a.arrays[key], b.arrays[key])
    assert any(not np.array_equal(a.arrays[k], c.arrays[k]) for k in a.arrays)   # the noise really differs


def test_networks_have_no_batchnorm_and_validate_for_opacus():
    for module in (CTGANGenerator(10, (16, 16), 7), CTGANDiscriminator(9, (16, 16)), TVAE(7, (8,), (8,), 3, 2)):
        ModuleValidator.validate(module, strict=True)
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules())


def test_pacgan_packing_shapes_and_per_row_samples_under_dp():
    packed = CTGANDiscriminator(5, (8,), pac=4)
    assert packed(torch.randn(12, 5)).shape == (3, 1)
    with pytest.raises(ValueError, match="multiple of pac"):
        packed(torch.randn(10, 5))
    # pac = 1 under DP: Opacus sees exactly one sample per discriminator input row
    from dpsynth_core.accounting.dpsgd import DpSgdPlan

    disc = CTGANDiscriminator(5, (8,), pac=1)
    trainer = make_private_trainer(disc, torch.optim.SGD(disc.parameters(), lr=0.1),
                                   plan=DpSgdPlan("rdp", 0.1, 10, 1.0, 1.0, 1e-5, 0.0), max_grad_norm=1.0,
                                   expected_batch_size=10, secure_mode=False, noise_seed=0, device=torch.device("cpu"))
    trainer.module(torch.randn(13, 5)).sum().backward()
    assert all(p.grad_sample.shape[0] == 13 for p in trainer.module.parameters())


def test_real_conditions_come_from_each_rows_own_category():
    frame = make_frame(100)
    private, domain = private_and_domain(frame)
    from dpsynth_core.generators.deep.transform import DataTransformer

    hist = {c.name: private.measure([c.binning], 2.0, step="t").astype(float) for c in domain.columns}
    transformer = DataTransformer.from_histograms(domain, hist, 4)
    vectors, codes = transformer.transform(frame)
    sampler = ConditionSampler(transformer, torch.device("cpu"))
    cond = sampler.for_rows(torch.from_numpy(codes))
    assert torch.all(cond.sum(1) == 1)
    sizes = sampler.sizes
    for i in range(20):
        hot = int(cond[i].argmax())
        column = 0 if hot < sizes[0] else 1
        category = hot - (0 if column == 0 else sizes[0])
        assert category == codes[i, column]


def test_device_auto_is_cpu_here_and_cuda_refused_without_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert resolve_device("auto").type == "cpu"
    from dpsynth_core.errors import ConfigError

    with pytest.raises(ConfigError, match="cuda"):
        resolve_device("cuda")


@pytest.mark.slow
def test_dp_ctgan_on_nasscds_at_epsilon_1_balanced():
    """The issue's target run (about a minute on 2 CPU cores): budget honoured and 1-way marginals of the declared
    categorical columns within 0.1 total variation (a model that ignores the data, e.g. uniform, is at 0.2-0.45)."""
    import os

    from timing_nasscds import DATA, NASS_SPEC, PUBLIC_ROWS

    from dpsynth_core.accounting.plan import default_delta
    from dpsynth_core.generators.deep.config import DeepConfig
    from dpsynth_core.generators.deep.validation import deep_plan, recommend_deep_config

    if not os.path.exists(DATA):
        pytest.skip("nassCDS.csv not available")
    frame = pd.read_csv(DATA)
    recommended = recommend_deep_config(goal="balanced", generator="dp-ctgan", rows=PUBLIC_ROWS, epsilon=1.0)
    plan = deep_plan(DeepConfig.from_dict(recommended["config"]), 1.0, default_delta(PUBLIC_ROWS))
    sgd = (plan.epsilon_sgd, plan.delta_sgd)
    private, domain = private_and_domain(frame, rho=0.01, noise_seed=0, spec=NASS_SPEC)
    generator = deep_generator(DPCTGAN, sgd=sgd, seed=0, max_rows=PUBLIC_ROWS, **recommended["config"])
    fitted = generator.fit(private, domain, generator_budget(private, private.budget.remaining, sgd))
    assert fitted.training["epsilon"] <= plan.epsilon_sgd
    sample = fitted.sample(5000, seed=0)
    for column in ("dead", "airbag", "seatbelt", "sex", "occRole"):
        real = frame[column].astype(str).value_counts(normalize=True)
        synthetic = sample[column].astype(str).value_counts(normalize=True)
        assert 0.5 * real.subtract(synthetic, fill_value=0).abs().sum() < 0.1, column

def test_epoch_ends_cover_every_planned_step():
    from dpsynth_core.generators.deep.training import epoch_ends
    from dpsynth_core.generators.deep.validation import planned_steps

    ends = epoch_ends(10, 524 / 26217)
    assert sorted(ends.values()) == list(range(1, 11))
    assert max(ends) == planned_steps(10, 524 / 26217)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_release_through_synthesize_table_spends_at_most_epsilon(name):
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.config import SynthesisConfig
    from dpsynth_core.measurement.pandas_engine import PandasEngine

    config = SynthesisConfig(epsilon=2.0, generator=name, seed=3, options=dict(TINY))
    release = synthesize_table(PandasEngine(make_frame(400), "toy"), SPEC, config, noise_rng=np.random.default_rng(0))
    record = release.record
    training = [line for line in record.spend if line["step"] == f"{name}:training"]
    preprocessing = [line for line in record.spend if line["step"].startswith(f"{name}:preprocess")]
    assert len(training) == 1 and len(preprocessing) == 4          # shown separately in the spend breakdown
    assert training[0]["epsilon"] <= config.budget_plan().epsilon_sgd
    assert record.epsilon_spent <= record.epsilon == 2.0
    assert "opacus-rdp" in record.accountant
    assert len(release.data) == record.rows and list(release.data.columns) == list(make_frame(1).columns)


def test_table_too_small_for_the_batch_is_a_clear_error_after_the_dp_count():
    from dpsynth_core.errors import ConfigError

    private, domain = private_and_domain(make_frame(30), rho=5.0)
    generator = deep_generator(DPTVAE, sgd=(1.0, 1e-6), **TINY)           # batch 40, no declared rows
    with pytest.raises(ConfigError, match="toy.*larger than the table"):
        generator.fit(private, domain, generator_budget(private, 1.0, (1.0, 1e-6)))


def test_dp_sgd_share_is_a_node_of_the_budget_tree_beside_the_zcdp_part():
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.config import SynthesisConfig
    from dpsynth_core.measurement.pandas_engine import PandasEngine

    record = synthesize_table(PandasEngine(make_frame(400), "toy"), SPEC,
                              SynthesisConfig(epsilon=2.0, generator="dp-tvae", options=dict(TINY))).record
    tree = {n["label"]: n for n in record.budget_tree}
    assert tree["zcdp"]["epsilon"] + tree["dp-sgd"]["epsilon"] == pytest.approx(2.0)
    assert tree["dp-sgd"]["spent"]["epsilon"] <= tree["dp-sgd"]["epsilon"]
    assert tree["zcdp"]["delta"] + tree["dp-sgd"]["delta"] == pytest.approx(record.delta)
    assert "zcdp/dp-tvae/histograms" in tree and "zcdp/domains" in tree


def test_progress_lines_carry_no_loss_of_the_private_batch():
    """Hole 4: DP-TVAE's loss and DP-CTGAN's discriminator loss are exact functions of the private batch."""
    for name in sorted(GENERATORS):
        events = []
        _fit(name, progress=lambda kind, info, events=events: events.append(info))
        keys = set().union(*(e.keys() for e in events))
        assert not {k for k in keys if "loss" in k} - {"loss_generator_on_synthetic"}, keys
