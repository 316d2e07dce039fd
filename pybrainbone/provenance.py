"""Parameter tables read from the module files: value, unit, description and source of every parameter.

Convention (docs/modelling-conventions.md): each constant parameter line carries a trailing comment with
``Source: ...`` or ``Assumed: ...``, or inherits the source of the last ``// @source ...`` line above it
in the same model (read by :mod:`pybrainbone.model_text`).

>>> from pybrainbone.provenance import parameter_table
>>> table = parameter_table("bone_remodeling")
>>> table.loc["A_OBa", "unit"], table.loc["A_OBa", "source"].startswith("Pivonka")
('per_day', True)
"""

from __future__ import annotations

import libsbml
import pandas as pd

from pybrainbone.build import compile_model
from pybrainbone.model_text import ParameterRecord, flat_parameter_records


def parameter_table(name: str) -> pd.DataFrame:
    """All constant parameters of module ``name`` with value, unit, description, source and file line.

    Parameters with no recorded source have an empty ``source``; the tests reject such modules.

    Examples
    --------
    >>> table = parameter_table("bone_remodeling")
    >>> list(table.columns)
    ['value', 'unit', 'description', 'source', 'line']
    >>> float(table.loc["P_PTH_ext", "value"]), table.loc["P_PTH_ext", "unit"]
    (0.0, 'pM_per_day')
    """
    compiled = compile_model(name)
    document = libsbml.readSBMLFromString(compiled.sbml)
    model = document.getModel()
    assigned = {r.getVariable() for r in model.getListOfRules()}
    comments = flat_parameter_records(name)
    rows = []
    for parameter in model.getListOfParameters():
        pid = parameter.getId()
        if pid in assigned:
            continue
        record = comments.get(pid, ParameterRecord(0, "", ""))
        rows.append(
            {
                "parameter": pid,
                "value": parameter.getValue(),
                "unit": parameter.getUnits(),
                "description": record.description,
                "source": record.source,
                "line": record.line,
            }
        )
    return pd.DataFrame(rows).set_index("parameter")
