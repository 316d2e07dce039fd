"""The one place that imports libsedml: import it from here (``from ...sedml.compat import libsedml``).

Importing libsedml changes how *libsbml* wraps the C++ types the two SWIG modules share; importing it here
applies :func:`restore_libsbml_proxies` once, right after the import, before anything else can use it.
"""

from __future__ import annotations

import libsbml
import libsedml

__all__ = ["libsedml", "restore_libsbml_proxies"]


def restore_libsbml_proxies() -> None:
    """Undo what importing libsedml does to libsbml.

    libsedml and libsbml are SWIG modules sharing 19 C++ type names (``List``, ``ASTNode``, ``XMLNode``,
    ...); importing libsedml makes *libsbml* return libsedml's proxies for them. libsbml's
    ``Model.getListOfAllElements()`` then yields generic ``SBase`` objects and never stops (libsedml's
    ``SBaseList.__getitem__`` returns None past the end), so e.g. :func:`pybrainbone.units.normalise_units`
    loops forever when a model is compiled afterwards. Re-registering libsbml's proxy classes restores it;
    libsedml keeps working because the proxies wrap the same shared SWIG types (we only pass such objects
    straight back to libsedml). Call again after anything else imports libsedml for the first time.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> restore_libsbml_proxies()  # idempotent: call it again whenever something else first imports libsedml
    >>> model = libsbml.readSBMLFromString(compile_model("bone_remodeling").sbml).getModel()
    >>> type(model.getListOfAllElements()).__module__  # libsbml's own list again, which stops at its end
    'libsbml'
    """
    for name in dir(libsbml._libsbml):
        if name.endswith("_swigregister") and hasattr(libsedml._libsedml, name):
            proxy = getattr(libsbml, name.removesuffix("_swigregister"), None)
            if proxy is not None:
                getattr(libsbml._libsbml, name)(proxy)


restore_libsbml_proxies()
