"""Published retention figures of heroin-assisted treatment, for the reference panel that
shows HAB's own Kaplan–Meier estimate beside them (dashboard and annual report).

The trials are not directly comparable with HAB: they chose their patients by their own
criteria, counted retention by their own rules (in NAOMI and the German trial a move to
another treatment could count as retained) and were run in other countries and years.
The panel is a yardstick, not a test. Each figure is the one the source reports; the
Swiss cohort's is approximate ("about 70 %")."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Reference:
    study: str  # the trial's usual name (translatable)
    arm: str  # the treatment the figure is for (translatable)
    months: int  # when retention was measured; 26 weeks is shown at 6 months
    retention: float  # the share still in treatment then (0–1)
    citation: str  # authors, journal, year;volume:pages
    year: int
    approximate: bool = False
    weeks: int | None = None  # the source's own time, where it gives weeks


HEROIN = _("Heroin (diacetylmorphine)")
METHADONE = _("Methadone")
INJECTABLE_HEROIN = _("Supervised injectable heroin")
GERMAN_TRIAL = _("The German heroin trial")
SWISS_COHORT = _("The Swiss heroin-assisted treatment cohort")

# Each source as the pages show it: authors, journal, year;volume:pages. The titles are
# English and the pages must read in bokmål only; they are in the programme guide.
NAOMI = "Oviedo-Joekes E, Brissette S, Marsh DC, et al. N Engl J Med 2009;361:777–786."
GERMAN = (
    "Haasen C, Verthein U, Degkwitz P, Berger J, Krausz M, Naber D. Br J Psychiatry 2007;191:55–62."
)
RIOTT = "Strang J, Metrebian N, Lintzeris N, et al. Lancet 2010;375:1885–1895."
SWISS = (
    "Rehm J, Gschwend P, Steffen T, Gutzwiller F, Dobler-Mikola A, Uchtenhagen A. "
    "Lancet 2001;358:1417–1423."
)

TRIALS: tuple[Reference, ...] = (
    Reference("NAOMI (Canada)", HEROIN, 12, 0.878, NAOMI, 2009),
    Reference("NAOMI (Canada)", METHADONE, 12, 0.541, NAOMI, 2009),
    Reference(GERMAN_TRIAL, HEROIN, 12, 0.672, GERMAN, 2007),
    Reference(GERMAN_TRIAL, METHADONE, 12, 0.400, GERMAN, 2007),
    Reference("RIOTT (England)", INJECTABLE_HEROIN, 6, 0.88, RIOTT, 2010, weeks=26),
    Reference(SWISS_COHORT, HEROIN, 12, 0.70, SWISS, 2001, approximate=True),
)


def panel(at_months: dict, bands: dict | None = None) -> list[dict]:
    """Each published figure with HAB's estimate at the same month beside it:
    ``at_months`` and ``bands`` are the indicators' retention ``at_months`` and
    ``band_at_months`` as shown (a withheld value is a text, a missing one None)."""
    bands = bands or {}
    return [
        {
            "reference": trial,
            "hab": at_months.get(str(trial.months)),
            "hab_band": bands.get(str(trial.months)),
        }
        for trial in TRIALS
    ]
