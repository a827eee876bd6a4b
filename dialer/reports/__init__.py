"""Campaign reports for analysts and managers: the tables (``data``), their labels in Russian and
English (``labels``), and two renderings: one self-contained HTML file (``html``) and an XLSX
workbook with one sheet per table (``xlsx``).
"""
