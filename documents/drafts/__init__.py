"""Reading drafts that arrive as documents (.docx, .pdf, legacy .doc/.wps) for the pre-check.

:func:`~documents.drafts.child.extract` is what the bot calls: it runs
:mod:`~documents.drafts.reader` in a child process (:mod:`~documents.drafts.worker`). This
package's own import stays light, since the child imports it on every file.
"""
