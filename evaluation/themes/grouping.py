"""Group free texts into themes: TF-IDF with Norwegian and Swedish stop-words, then NMF (scikit-learn).

A classical method, chosen because it runs offline from a PyPI package with no
model download, is deterministic with a seed, and says why a text is in a
theme (its top words). Each text goes to the theme of its largest NMF weight.
It knows no meaning: synonyms it has not seen together, irony and very short
texts are grouped poorly, and the number of themes is a choice (``n_themes``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STOP_WORDS = frozenset(
    """
    og i jeg det at en et den til er som på de med han av ikke ikkje der så var meg seg men ett har om vi min mitt
    ha hadde hun nå over da ved fra du ut sin dem oss opp man kan hans hvor eller hva skal selv sjøl her alle vil bli
    ble blitt kunne inn når være kom noen noe ville dere deres kun ja etter ned skulle denne for deg si sine sitt mot
    å meget hvorfor dette disse uten hvordan ingen din ditt blir samme hvilken hvilke sånn inni mellom vår hver hvem
    vors hvis både bare enn fordi før mange også slik vært båe begge siden dykk dykkar dei deira deim di eg ein eit
    eitt elles honom hjå ho hoe henne hennar hennes hoss hossen ikkje ingi inkje korleis korso kva kvar kvarhelst
    kven kvi kvifor me medan mi mine mykje no nokon noka nokor noko nokre sia sidan so somt somme um upp vere vore
    verte vort varte vart att för från inte som vara med sig till är ett på av en jag det och den de om så men
    mycket nu har han hon hans hennes dem din ditt dina vår vårt våra er ert era sin sitt sina vilken vilket vilka
    när där här var hade blev bli blir kan ska skulle kunde vill också efter innan inom under över mellan alla
    några något ingen inget inga detta dessa sådan sådant sådana samma annan annat andra sedan mot utan vid hos
    hilsen hei takk tack mvh tlf navn telefon adresse post
    """.split()
)


@dataclass(frozen=True)
class Themes:
    """The theme of each text and the top words of each theme.

    Attributes
    ----------
    theme : ndarray of int, shape (n_texts,)
        Theme number (0 .. n_themes - 1) of each text; -1 for a text with no known word.
    words : list of list of str
        The ``n_words`` heaviest words of each theme.
    """

    theme: np.ndarray
    words: list[list[str]]


def group_texts(texts: pd.Series, n_themes: int, seed: int, n_words: int = 6) -> Themes:
    """Themes of ``texts`` (TF-IDF of words of 3+ letters, minimum 5 texts per word, NMF with ``n_themes``)."""
    from sklearn.decomposition import NMF  # noqa: PLC0415 - scikit-learn is for this stage only
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    vectorizer = TfidfVectorizer(
        lowercase=True,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
        stop_words=sorted(STOP_WORDS),
        min_df=5,
        sublinear_tf=True,
    )
    matrix = vectorizer.fit_transform(texts.fillna("").astype(str))
    model = NMF(n_components=n_themes, init="nndsvda", random_state=seed, max_iter=500)
    weights = model.fit_transform(matrix)
    vocabulary = vectorizer.get_feature_names_out()
    words = [list(vocabulary[np.argsort(-component)[:n_words]]) for component in model.components_]
    theme = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    return Themes(theme, words)
