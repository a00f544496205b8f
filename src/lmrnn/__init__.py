"""lmrnn: locality-masked RNNs and the Mod-Cog cognitive task battery.

Rooms (each with one job; dependencies point one way):
``tasks`` and ``graphs`` depend on nothing of the project, ``models`` on ``graphs``,
``train`` joins ``tasks`` and ``models``, ``analysis`` reads trained models and task batches,
``experiments`` composes the rest, and ``cli`` only parses and calls. ``errors`` and ``checks``
(the one wording of each bad input) serve every room and depend on none.
"""

__version__ = "0.1.0"
