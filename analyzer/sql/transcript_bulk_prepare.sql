-- The second half of a bulk read (analyzer.ingest._bulk_prepare), on the reader's connection and thread: the
-- files read by transcript_bulk_read.sql (relation `_bulk_raw`, their positions as source_id) become tables of
-- the scratch database, named {t}_*, that the main connection stores from (and then drops):
-- * {t}_files: per file what the store decides on without its text. bad: not UTF-8 or holding NUL (the chunked
--   path takes it); n_parts: parts when split on newlines; tail: the part after the last newline (empty, or an
--   unterminated line), and its length in bytes. A file that may hold a credential has no text here (suspect):
--   the main connection reads and redacts it itself.
-- * view `batch`: the lines of the other files, the normaliser's input (normalize_transcript.sql, run next into
--   {t}_norm): every line, since the normaliser works line by line and the store keeps only those it decides on.
create table {t}_files as
select pos, nbytes, suspect,
       (text is null and not suspect) or coalesce(contains(text, chr(0)), false) as bad,
       len(parts) as n_parts, parts[-1] as tail, strlen(parts[-1]) as tail_bytes
from (select *, string_split(text, chr(10)) as parts from _bulk_raw);
create or replace temp view batch as
select pos as source_id, path as source_path, unnest(parts) as line, generate_subscripts(parts, 1) as line_no
from (
    select pos, path, string_split(text, chr(10)) as parts
    from _bulk_raw
    where text is not null and not contains(text, chr(0))
);
