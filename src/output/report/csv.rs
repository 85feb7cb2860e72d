//! CSV, long form: one line per figure, `sezione,ente,voce,valore` (comma, CRLF, fields quoted
//! only when they hold a comma, a quote or a line break), written with the `csv` crate.

use crate::analysis::piano_annuale::PianoAnnuale;

/// `s` as a spreadsheet will not run it: a cell that begins with `=`, `+`, `@`, a tab, a
/// carriage return, or a `-` that does not start a number, gets a leading `'` (OWASP's advice
/// against CSV injection; names come from the owner bodies' files).
pub(crate) fn neutralised(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '@', '\t', '\r'])
        || (s.starts_with('-') && s.trim().parse::<f64>().is_err());
    if risky {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// CSV text in memory: comma-separated, CRLF line ends (RFC 4180), fields quoted only when
/// they hold a comma, a quote or a line break. Shared with the candidate-areas report.
pub(crate) struct CsvText(::csv::Writer<Vec<u8>>);

impl CsvText {
    pub(crate) fn new() -> CsvText {
        // Flexible: a record is never refused for its length, so writing into the `Vec`
        // cannot fail.
        CsvText(
            ::csv::WriterBuilder::new()
                .terminator(::csv::Terminator::CRLF)
                .flexible(true)
                .from_writer(Vec::new()),
        )
    }

    /// One record; each cell [`neutralised`].
    pub(crate) fn row<I, T>(&mut self, cells: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralised(c.as_ref()).into_owned())
            .collect();
        // Infallible into a `Vec` (see `new`).
        let _ = self.0.write_record(&cells);
    }

    pub(crate) fn finish(self) -> String {
        // Flushing into a `Vec` cannot fail, and every cell was a `str`.
        let bytes = self.0.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// Long form: one line per figure, `sezione,ente,voce,valore`.
pub(super) fn render(r: &PianoAnnuale) -> String {
    let mut o = CsvText::new();
    o.row(["sezione", "ente", "voce", "valore"]);
    let mut line = |sez: &str, ente: &str, voce: &str, v: u32| {
        o.row([sez, ente, voce, &v.to_string()]);
    };
    for row in r.stato_per_ente.iter().chain(std::iter::once(&r.totale)) {
        for (voce, v) in [
            ("di_proprieta", row.di_proprieta),
            ("libero", row.libero),
            ("sfitto_carenze_manutentive", row.sfitto_carenze_manutentive),
            ("sfitto_ristrutturazione", row.sfitto_ristrutturazione),
            ("occupato", row.occupato),
            ("disponibili_anno", row.disponibili_anno),
        ] {
            line("stato_per_ente", &row.ente, voce, v);
        }
    }
    for c in r
        .consistenza
        .iter()
        .chain(std::iter::once(&r.totale_consistenza))
    {
        for (voce, v) in [
            ("alloggi_complessivi", c.alloggi_complessivi),
            ("sas", c.sas),
            ("sap", c.sap),
            ("altro_uso_residenziale", c.altro_uso_residenziale),
        ] {
            line("a", &c.ente, voce, v);
        }
    }
    let s = &r.sezioni;
    for (name, sec) in [
        ("b", &s.b),
        ("c", &s.c),
        ("d", &s.d),
        ("e", &s.e),
        ("f", &s.f),
        ("j", &s.j),
        ("k", &s.k),
    ] {
        for v in &sec.per_ente {
            line(name, &v.ente, "unita", v.valore);
        }
        line(name, "Totale", "unita", sec.totale);
    }
    for g in &s.g.per_ente {
        line("g", &g.ente, "disponibili_anno", g.dichiarati);
        line("g", &g.ente, "somma_b_f", g.somma_b_f);
        line("g", &g.ente, "di_cui_turn_over", g.di_cui_turn_over);
    }
    line("g", "Totale", "disponibili_anno", s.g.totale);
    line("g", "Totale", "somma_b_f", s.g.somma_b_f);
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::CsvText;

    #[test]
    fn quotes_only_fields_that_need_it() {
        let mut o = CsvText::new();
        o.row(["sezione", "ente", "voce", "valore"]);
        o.row([
            "a",
            "Comune di Rovetta, frazione \"San Lorenzo\"",
            "x\ny",
            "3",
        ]);
        o.row(["b", "", "unita", "0"]);
        assert_eq!(
            o.finish(),
            "sezione,ente,voce,valore\r\n\
             a,\"Comune di Rovetta, frazione \"\"San Lorenzo\"\"\",\"x\ny\",3\r\n\
             b,,unita,0\r\n"
        );
    }
}
