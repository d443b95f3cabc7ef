"""The cost-benefit model on hand-worked numbers."""

from hab.evaluation import costbenefit as cb


def inputs() -> cb.Inputs:
    return cb.Inputs(
        hab_cost_per_patient_year=200_000,
        crime_days_change=-6,  # 6 fewer crime days in the last 30
        hospital_days_change=-2,  # 2 fewer hospital days in the last 3 months
        overdoses_change=-0.5,
        cost_per_crime_day=5_000,
        cost_per_hospital_day=12_000,
        cost_per_overdose=25_000,
        lar_cost_per_patient_year=105_800,
        lar_effect_share=0.0,
    )


def test_the_benefit_is_the_annualised_change_valued_at_unit_costs():
    result = cb.evaluate(inputs())
    # crime: 6 × 365.25/30 × 5,000 = 365,250; hospital: 2 × 4 × 12,000 = 96,000;
    # overdoses: 0.5 × 4 × 25,000 = 50,000; total 511,250; net 511,250 − 200,000 = 311,250.
    assert result.avoided_crime_nok == 365_250
    assert result.avoided_hospital_nok == 96_000
    assert result.avoided_overdose_nok == 50_000
    assert result.benefit_nok == 511_250
    assert result.net_benefit_nok == 311_250
    # LAR achieves none of it here: net −105,800; HAB over LAR 311,250 + 105,800 = 417,050.
    assert result.lar_net_benefit_nok == -105_800
    assert result.incremental_cost_nok == 94_200
    assert result.incremental_net_benefit_nok == 417_050


def test_the_sensitivity_table_moves_each_input_by_a_quarter():
    rows = {row["input"]: row for row in cb.sensitivity(inputs())}
    assert set(rows) == {f for f in cb.Inputs.__dataclass_fields__}
    # HAB cost −25 % (150,000): net 511,250 − 150,000 = 361,250; +25 %: 261,250.
    assert rows["hab_cost_per_patient_year"]["net_benefit_low"] == 361_250
    assert rows["hab_cost_per_patient_year"]["net_benefit_high"] == 261_250
    # Crime-day cost ±25 %: benefit moves by ±91,312.5.
    assert rows["cost_per_crime_day"]["net_benefit_high"] == 311_250 + 91_312.5


def test_every_assumption_is_listed_with_a_source():
    listed = cb.assumptions(inputs())
    assert {a.name for a in listed} == set(cb.Inputs.__dataclass_fields__)
    lar = next(a for a in listed if a.name == "lar_cost_per_patient_year")
    assert "105,800" in lar.source
    assert next(a for a in listed if a.name == "cost_per_overdose").source == "assumption"
    assert cb.Inputs(1, 0, 0, 0).lar_cost_per_patient_year == 105_800
