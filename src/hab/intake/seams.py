"""What intake tells the apps above it (see ``hab.core.seams``).

A new episode starts the research follow-up schedule (baseline first), by the research
app's own rule; research connects it from its ``ready()``. It runs in the admission's
transaction.
"""

from hab.core.seams import Seam

# (episode_id=) -> None.
episode_admitted = Seam("intake.episode_admitted")
