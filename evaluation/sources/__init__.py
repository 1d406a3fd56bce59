"""Raw sources into canonical rows: file readers, codebooks, code crosswalks, the electoral-roll register and
pseudonymisation of respondent ids. Libraries only: they take paths and objects, never the pipeline config."""
