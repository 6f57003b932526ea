"""Documents people download or print: the report and ledger workbooks and the report charts.

CPU-bound (openpyxl, matplotlib): callers run them in a worker thread.
"""
