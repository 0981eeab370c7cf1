"""Quality tools for the course's checks (authors only; not shipped to students).

``python -m qa.mutants`` (``make mutants``) plants typical student bugs into every solution
block and reports how each exercise's check reacts; see :mod:`qa.mutants`.
"""
