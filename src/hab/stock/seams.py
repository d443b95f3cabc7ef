"""What the controlled-drug book tells the apps above it (see ``hab.core.seams``).

A count that differs from the book opens a stock-discrepancy incident for the clinic lead,
and the lead's resolution closes it; incidents connects both from its ``ready()``. Both run
in the count's or the resolution's transaction, so the book and the incident move together.
"""

from hab.core.seams import Seam

# (actor=, discrepancy=) -> the incident opened.
discrepancy_opened = Seam("stock.discrepancy_opened")
# (actor=, discrepancy=, explanation=) -> None.
discrepancy_resolved = Seam("stock.discrepancy_resolved")
