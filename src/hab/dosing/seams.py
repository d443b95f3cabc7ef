"""What a dose tells the apps above dosing (see ``hab.core.seams``).

A record that breaks a limit of the day (a correction or a paper dose the nurse confirmed)
and an overdose seen during observation are incidents for the clinic lead; incidents
connects both from its ``ready()``. Each runs in the dose's transaction: the record and its
incident are written together or not at all.
"""

from hab.core.seams import Seam

# (actor=, administration=, breaches=, reason=, corrected=None) -> the incident opened.
breach_confirmed = Seam("dosing.breach_confirmed")
# (actor=, observation=) -> the incident opened.
overdose_recorded = Seam("dosing.overdose_recorded")
