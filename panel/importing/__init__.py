"""Importing clients from CSV and XLSX files (SPEC §11): read (``reading``), match the headers
(``columns``), read the cells (``cells``), validate every row with ``ClienteForm`` (``rows``),
write in chunks with Core statements (``writing``), and the job from upload to result
(``service``), in the background (``background``) or from the shell (``shell``)."""
