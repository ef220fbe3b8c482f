"""What a typed reply to a reminder means, in English, French and Spanish.

People answer a reminder the way they type to a colleague: ``Done ✅``, ``finished it
yesterday``, ``pas encore``, ``ya lo hice``, ``remind me after Eid``, ``I forgot my LMS
password``, ``👍``. :func:`understand` reads such a reply as one :class:`Intent` (done, snooze,
help, not mine, exempt, on leave, stop, thanks, question, not yet, or unclear: ask back), with
the day it names, read in the person's time zone relative to the injected clock.

It is pure (no database, no clock of its own) so it can be measured on a table of real-looking
replies (tests/test_intents.py, docs/benchmarks.md). The text is normalised first: lower case,
accents and emoji folded, repeated letters squeezed, and one-letter typos of the words that
matter corrected ("finsihed", "lsito").

Order matters and is deliberate: a plea for help or a negative ("not done yet", "pas encore",
"todavía no") is recognised before anything that could read as done, so a negative is never
recorded as done.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import dateparser


class Kind(StrEnum):
    DONE = "done"
    NOT_YET = "not_yet"
    SNOOZE = "snooze"
    HELP = "help"
    NOT_MINE = "not_mine"
    EXEMPT = "exempt"
    ON_LEAVE = "on_leave"
    STOP = "stop"
    THANKS = "thanks"
    QUESTION = "question"
    UNCLEAR = "unclear"


class Default(StrEnum):
    """Why a snooze day was chosen by the bot rather than named by the person (it says so)."""

    NONE = ""
    LATER = "later"
    HOLIDAYS = "holidays"
    EID = "eid"
    BACK = "back"


@dataclass(frozen=True, slots=True)
class Intent:
    kind: Kind
    on: date | None = None
    """Done: the completion day given ("yesterday"); snooze/on leave: the day to remind again."""
    default: Default = Default.NONE
    """Snooze: why the bot picked ``on`` itself ("after the holidays")."""
    topic: str = ""
    """Question: ``due`` or ``link`` when the course's details answer it, else empty."""

    @property
    def is_reply(self) -> bool:
        """Clearly an answer to a reminder even days later (not thanks, a question, unclear)."""
        return self.kind not in {Kind.THANKS, Kind.QUESTION, Kind.UNCLEAR}


# -- normalising ------------------------------------------------------------------------------
EMOJI = {
    "✅": " done ",
    "✔": " done ",
    "☑": " done ",
    "🎉": " done ",
    "👍": " ok ",
    "👌": " ok ",
    "🙏": " thanks ",
    "🙂": " ok ",
    "😊": " ok ",
    "❤": " thanks ",
    "💪": " ok ",
    "🆘": " help ",
    "❓": " ? ",
    "🤔": " ? ",
    "🛑": " stop ",
    "✋": " stop ",
    "🏖": " vacation ",
    "🌴": " vacation ",
    "🤒": " sick leave ",
}
_URL = re.compile(r"https?://\S+|www\.\S+")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_TYPO_FIXES = {
    "dnoe": "done",
    "doen": "done",
    "dne": "done",
    "donee": "done",
    "thx": "thanks",
    "thnx": "thanks",
    "tnx": "thanks",
    "thks": "thanks",
    "ty": "thanks",
    "tks": "thanks",
    "okay": "ok",
    "okey": "ok",
    "oki": "ok",
    "k": "ok",
    "kk": "ok",
    "oui": "oui",
    "grax": "gracias",
    "grcias": "gracias",
    "mrc": "merci",
    "mci": "merci",
    "stp": "svp",
    "pls": "please",
    "plz": "please",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2morrow": "tomorrow",
    "nxt": "next",
    "wk": "week",
    "pq": "pourquoi",
    "xq": "por que",
    "q": "que",
    "dsp": "despues",
    "jai": "j'ai",
    "cest": "c'est",
    "ya.": "ya",
}
VOCABULARY = frozenset(
    [
        "done",
        "finished",
        "finish",
        "completed",
        "complete",
        "passed",
        "submitted",
        "certificate",
        "thanks",
        "thank",
        "later",
        "remind",
        "reminder",
        "tomorrow",
        "week",
        "month",
        "weekend",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "yesterday",
        "today",
        "next",
        "after",
        "holidays",
        "holiday",
        "vacation",
        "maternity",
        "paternity",
        "leave",
        "exempt",
        "exempted",
        "password",
        "access",
        "broken",
        "working",
        "someone",
        "please",
        "stop",
        "unsubscribe",
        "question",
        "deadline",
        "fait",
        "termine",
        "terminee",
        "fini",
        "finie",
        "complete",
        "valide",
        "merci",
        "demain",
        "semaine",
        "prochaine",
        "rappelle",
        "rappeler",
        "relance",
        "plus",
        "tard",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "hier",
        "avant",
        "apres",
        "vacances",
        "conge",
        "maternite",
        "maladie",
        "exempte",
        "dispense",
        "aide",
        "acces",
        "passe",
        "marche",
        "fonctionne",
        "encore",
        "toujours",
        "arrete",
        "listo",
        "lista",
        "hecho",
        "terminado",
        "terminada",
        "termine",
        "acabe",
        "completado",
        "gracias",
        "manana",
        "semana",
        "proxima",
        "recuerdame",
        "recuerdamelo",
        "avisame",
        "despues",
        "luego",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "ayer",
        "anteayer",
        "vacaciones",
        "licencia",
        "maternidad",
        "permiso",
        "exento",
        "exenta",
        "ayuda",
        "acceso",
        "contrasena",
        "enlace",
        "funciona",
        "todavia",
        "tampoco",
        "ocupado",
        "ocupada",
        "tarde",
        "arret",
    ]
)
_KEEP = frozenset(
    [
        "donde",
        "dones",
        "honte",
        "monde",
        "tarde",
        "there",
        "where",
        "these",
        "those",
        "other",
        "about",
        "sorry",
        "mande",
        "manda",
        "fine",
        "finir",
        "finis",
        "finit",
        "finito",
        "fondo",
        "ponte",
        "pense",
        "penses",
        "doing",
        "going",
        "being",
        "dined",
        "denied",
        "thinks",
        "think",
        "bank",
        "month",
        "north",
        "worth",
        "semana",
        "semanas",
        "lunch",
        "bunch",
        "stone",
        "stones",
    ]
)
"""Ordinary words one letter away from a key word, never "corrected" ("donde" is not "done")."""


def _distance_at_most_one(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _correct(word: str) -> str:
    if word in _TYPO_FIXES:
        return _TYPO_FIXES[word]
    if len(word) < 5 or word in VOCABULARY or word in _KEEP or not word.isalpha():
        return word
    matches = [known for known in VOCABULARY if _distance_at_most_one(word, known)]
    return matches[0] if len(matches) == 1 else word


def normalise(text: str) -> str:
    """Lower case, no accents, emoji as words, ``?`` kept as a word, typos of key words fixed."""
    text = _URL.sub(" ", text.lower().replace("’", "'").replace("`", "'"))
    for emoji, word in EMOJI.items():
        text = text.replace(emoji, word)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"\?", " ? ", text)
    text = re.sub(r"[^a-z0-9'? -]+", " ", text)
    text = _REPEATS.sub(r"\1", text)
    return " ".join(_correct(word) for word in text.split())


# -- the phrases ------------------------------------------------------------------------------
def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{part})" for part in parts))


_ACK_WORDS = frozenset(
    [
        "ok",
        "thanks",
        "thank",
        "you",
        "thankyou",
        "much",
        "many",
        "cool",
        "great",
        "noted",
        "perfect",
        "super",
        "merci",
        "beaucoup",
        "bcp",
        "d'accord",
        "daccord",
        "parfait",
        "top",
        "gracias",
        "vale",
        "genial",
        "perfecto",
        "entendido",
        "muchas",
        "bien",
        "good",
        "nice",
        "received",
        "recu",
        "recibido",
        "awesome",
        "fine",
        "sure",
        "alright",
        "right",
        "de",
        "nada",
        "np",
        "cheers",
        "ta",
        "?",
        "!",
        "please",
        "svp",
        "ok'",
        "okay",
        "thx",
        "bien",
        "merci'",
        "noted'",
        "lol",
        "haha",
        "jaja",
    ]
)
_UNCLEAR_WHOLE = re.compile(
    r"^(?:yes|yeah|yep|no|nope|maybe|perhaps|oui|ouais|non|peut-etre|peut etre|si|sip|nop|quizas|"
    r"tal vez|c'est bon|hmm|hm|\?|what|quoi|que|eh|huh|idk|je sais pas|no se|ok so|bof|well|y)"
    r"(?: ?\?)?$"
)
_STOP = _rx(
    r"^stop(?: it| please| now| this| that| all)?$",
    r"\bstop (?:remind|send|messag|nudg|bother|spamm|writ|the reminder|these|all)",
    r"\bunsubscribe\b|\bopt ?out\b|\bleave me alone\b|\bno more (?:reminder|message)",
    r"\bdon'?t (?:remind|message|contact|bother|text|write) me\b|\bdo not (?:remind|message|contact) me\b",
    r"^(?:arrete|arretez)(?: svp| s'il (?:te|vous) plait| maintenant)?$",
    r"\barrete[zr]? (?:de |les |ca|tes |vos |svp)|\bne m'?(?:ecris|ecrivez|envoie|envoyez|relance[zs]?)"
    r"(?: \w+)? plus\b",
    r"\blaisse[zr]?[- ]moi tranquille|\bplus de (?:rappel|message|relance)|\bdesabonne|\bdesinscri",
    r"^(?:para|basta|alto)(?: ya| por favor)?$",
    r"\bdeja(?:d)? de (?:mandar|enviar|escribir|recordar|molestar)|\bno me (?:escribas|escriban|envies|"
    r"mandes|recuerdes|molestes)(?: \w+)? mas\b",
    r"\bno mas (?:mensajes|recordatorios)\b|\bdejame en paz|\bdesuscrib|\bdarme de baja de\b",
)
_HELP = _rx(
    r"\bhelp\b|\bcan'?t (?:access|open|log ?in|login|sign ?in|find|get|enter|see|load|connect)",
    r"\bcannot (?:access|open|log|sign|find|get|enter|see)|\bunable to\b|\bno access\b",
    r"\bdon'?t have (?:access|a login|an account|the password)|\baccess denied\b",
    r"\b(?:link|page|course|site|lms|platform|video)\b.*\b(?:broken|doesn'?t work|does not work|"
    r"not working|won'?t (?:open|load|work)|dead|error)",
    r"\bbroken\b|\berror\b|\bpassword\b|\blocked out\b|\bsit (?:down )?with me\b|\bshow me how\b",
    r"\bwalk me through\b|\bwho (?:do|should|can) i (?:ask|talk|contact|speak|write)|\bstuck\b",
    r"\bproblem (?:with|opening|accessing)|\bissues? with\b|\bdon'?t know how\b|\bcan (?:someone|you) "
    r"(?:help|show|sit|explain)",
    r"\baide\b|\baider?\b|\baidez\b|\bbesoin d'?aide|\bje n'?arrive pas\b|\bj'?arrive pas\b"
    r"|\bn'?arrive pas\b",
    r"\bimpossible (?:d'?acceder|d'?ouvrir|de (?:me connecter|trouver|lancer|valider))",
    r"\bpas (?:d'?)?acces\b|\bacces refuse|\b(?:lien|page|cours|plateforme)\b.*\b(?:casse|mort|marche pas|"
    r"fonctionne pas|ne marche|ne fonctionne|ne s'?ouvre)",
    r"\bne (?:marche|fonctionne|s'?ouvre) pas\b|\bmarche pas\b|\bmot de passe\b|\bmdp\b|\bbloquee?\b",
    r"\berreur\b(?! de (?:personne|destinataire))|\bprobleme\b|\bquelqu'?un (?:peut|pourrait)"
    r"|\bavec moi\b|\bm'?accompagner\b|\bm'?expliquer\b",
    r"\bje ne sais pas comment\b|\bje sais pas comment\b|\bqui (?:dois-je|je dois|contacter|peut m)",
    r"\bayuda\b|\bayudar|\bayudeme|\bayudame|\bno (?:puedo|consigo|logro) (?:entrar|acceder|abrir|ingresar|"
    r"iniciar|encontrar|ver|conectar)",
    r"\bno tengo acceso\b|\bsin acceso\b|\b(?:enlace|link|pagina|plataforma|curso)\b.*\b(?:roto|no funciona|"
    r"no abre|no carga|no sirve)",
    r"\bno (?:funciona|abre|carga|sirve)\b|\bcontrasena\b|\bclave\b|\bbloquead[oa]\b|\berror\b|\bproblema\b",
    r"\balguien (?:me )?(?:puede|podria)|\bconmigo\b|\bacompan|\bno se como\b|\ba quien (?:le )?"
    r"(?:pregunto|pido|acudo|escribo)",
)
_AFTER = re.compile(
    r"\b(?:after|apres|despues(?: de| del)?|pasad[oa]s? (?:las|los|el))\b"
    r"|\bwhen i'?m back\b|\bwhen i (?:get|come) back\b|\bonce i'?m back\b|\ba mon retour\b"
    r"|\bquand je (?:rentre|reviens|serai de retour)\b|\ba mi (?:regreso|vuelta)\b|\bcuando (?:vuelva"
    r"|regrese)\b"
    r"|\bau retour\b|\bal volver\b"
)
_ON_LEAVE = _rx(
    r"\b(?:maternity|paternity|parental|sick|medical|annual|study|long|home) leave\b|\bon leave\b",
    r"\bon (?:holiday|holidays|vacation|annual leave|mission|sabbatical|r ?& ?r)\b"
    r"|\bout of (?:the )?office\b",
    r"\bi'?m off (?:sick|until|till|for)|\bin hospital\b|\bvacation\b|\bsick leave\b",
    r"\ben conge\b|\bconge (?:maternite|paternite|maladie|parental)|\ben (?:vacances|arret maladie"
    r"|mission)\b",
    r"\barret maladie\b|\bje suis absente?\b",
    r"\bde (?:baja|licencia|permiso|vacaciones|mision)\b|\blicencia (?:de |por )?(?:maternidad|paternidad|"
    r"medica|enfermedad)",
    r"\bbaja (?:de |por )?(?:maternidad|paternidad|medica|enfermedad)|\bincapacidad\b"
    r"|\bfuera de la oficina\b",
)
_EXEMPT = _rx(
    r"\bexempt(?:ed|ion)?\b|\bexcused\b|\bwaiver\b|\bdon'?t (?:need|have) to (?:do|take)\b|\bnot required\b",
    r"\bnot mandatory for me\b|\bdoesn'?t apply to me\b|\balready certified\b",
    r"\b(?:at|en|a|chez|in|with|con) (?:unicef|unhcr|undp|unfpa|wfp|the un|onu|ocha|oms|who|"
    r"(?:my|mon|mi) (?:previous|last|former|old|ancien|ancienne|anterior|antiguo) \w+|another (?:org"
    r"|agency|job)"
    r"|otra (?:organizacion|agencia)|une autre (?:organisation|agence))\b",
    r"\bexempte?e?\b|\bexonere|\bdispensee?\b|\bpas obligatoire pour moi|\bne s'?applique pas",
    r"\bexent[oa]\b|\bexoner|\bdispensad|\bno (?:me )?aplica\b|\bno es obligatorio para mi",
)
_NOT_MINE = _rx(
    r"\bnot mine\b|\bnot my (?:course|job|role|team|department|area)\b|\bnot for me\b|^not me\b",
    r"\bwrong (?:person|guy|name|email)\b|\bisn'?t (?:mine|my (?:course|job|role|team))\b"
    r"|\bnot assigned to me\b|\bshouldn'?t (?:be|have) "
    r"(?:on|assigned|got)",
    r"\bwhy (?:me|am i getting this|did i get this)\b|\bi (?:don'?t|do not) work (?:here|there) any ?more"
    r"|\bno longer work|\bi (?:left|moved) (?:the|this)",
    r"\bpas (?:le mien|la mienne|pour moi|a moi)\b|\bce n'?est pas (?:moi|pour moi|mon cours|a moi)"
    r"|\bc'?est pas (?:moi|pour moi|a moi)|\bn'?est pas le mien",
    r"\berreur de (?:personne|destinataire)|\bmauvaise personne\b|\bpourquoi moi\b"
    r"|\bje ne (?:travaille|suis) "
    r"plus\b",
    r"\bno es (?:mio|mia|para mi|mi curso|a mi)\b|\bno me corresponde\b|\bpersona equivocada\b"
    r"|\bse equivocaron\b|\bpor que (?:a )?mi\b|\bya no trabajo\b|\bno soy yo\b",
)
_NOT_YET = _rx(
    r"\bnot (?:yet|done|finished|completed|started|there yet|quite)\b|\bhaven'?t\b|\bhave not\b|\bhasn'?t\b",
    r"\bdidn'?t (?:do|finish|complete|start|manage|get)|\bdid not\b|\bstill (?:working|doing|on it"
    r"|need|have)",
    r"\b(?:almost|nearly|half|partly|mostly) (?:done|finished|there|way)|\bworking on it\b|\bin progress\b",
    r"\bpas (?:encore|fini|finie|termine|terminee|fait|commence|tout a fait)\b|\btoujours pas\b",
    r"\bj'?ai pas (?:fini|termine|fait|commence|eu)|\bn'?ai pas (?:encore|fini|termine|fait|eu)",
    r"\bpresque (?:fini|termine)|\ben cours\b|\bje suis dessus\b|\bj'?y travaille\b",
    r"\btodavia no\b|\baun no\b|\bno todavia\b|\bno (?:lo )?he (?:terminado|hecho|acabado|completado"
    r"|empezado|"
    r"podido)|\bno (?:lo )?termine\b",
    r"\bno lo hice\b|\bno lo he\b|\bsin terminar\b|\bcasi (?:listo|lista|termino|termine|terminado)|"
    r"\bestoy en (?:ello|eso)\b|\ben proceso\b|\bya casi\b|\bno esta (?:listo|hecho)",
)
_FUTURE = _rx(
    r"\b(?:will|i'?ll|going to|gonna|plan to|planning to) (?:do|finish|complete|take|start|get)",
    r"\bje (?:vais|compte) (?:le |la )?(?:faire|finir|terminer|commencer)|\bje le (?:ferai|finirai"
    r"|terminerai)",
    r"\bvoy a (?:hacer|terminar|completar|empezar)|\blo (?:hare|terminare|completare|hago)\b",
)
_DONE = _rx(
    r"\b(?:done|finished|completed|passed|submitted)\b|\bdid (?:it|that|the course|the training|mine)\b",
    r"\bjust did\b|\balready did\b|\byes,? i did\b|\bgot (?:my|the) certificate\b|\bfinished it\b|\bsorted\b",
    r"\bc'?est fait\b|\bfait\b|\btermine(?:e|es|s)?\b|\bfinie?s?\b|\bj'?ai (?:fini|termine|fait|complete|"
    r"reussi|valide|suivi)",
    r"\bcomplete\b|\bvalidee?\b|\bdeja fait\b|\beffectuee?\b",
    r"\bya (?:lo )?hice\b|\blo hice\b|\blist[oa]\b|\bhecho\b|\bterminad[oa]\b|\bcompletad[oa]\b",
    r"\bya (?:lo )?(?:termine|complete|acabe|curse)\b|\bya esta\b|\bacabe\b|\bfinalizad[oa]\b|\bya cumpli\b",
)
_SNOOZE = _rx(
    r"\bremind me\b|\b(?:ping|nudge|ask|message|text|tell) me (?:again|later|on|next|tomorrow|in)\b",
    r"\blater\b|\bsnooze\b|\bnot (?:now|today|this week)\b|\bbusy\b|\bno time\b|\banother (?:day|time)\b",
    r"\brappel(?:le|ez|er)?[- ]moi\b|\brelance[rz]?[- ]moi\b|\bplus tard\b|\bpas (?:maintenant"
    r"|aujourd'?hui)\b",
    r"\bpas le temps\b|\bdebordee?\b|\ble (?:ferai|finirai)\b",
    r"\brecuerd(?:a|e|en)(?:me|melo)\b|\bavisa(?:me)?\b|\bmas tarde\b|\bluego\b|\bahora no\b|\bhoy no\b",
    r"\bno tengo tiempo\b|\bocupad[oa]\b",
)
_QUESTION_START = re.compile(
    r"^(?:what|when|where|why|how|which|who|is it|are|do i|does|can i|could|should i|will|am i|"
    r"quand|comment|pourquoi|ou est|ou se|quel(?:le)?s?|qui|est-ce|combien|c'est quoi|puis-je|dois-je|"
    r"cuando|como|donde|por que|cual|quien|cuanto|puedo|debo|hay que)\b"
)
_ABOUT_COURSE = re.compile(
    r"\b(?:it|this|that|course|training|module|modules|quiz|test|exam|certificate|mandatory|required|lms|"
    r"ca|ce|cela|cours|formation|obligatoire|certificat|lo|la|esto|eso|curso|capacitacion|obligatorio|"
    r"certificado|examen)\b"
)
_DUE_TOPIC = re.compile(r"\b(?:due|deadline|date limite|echeance|fecha|plazo|vence|when|quand|cuando)\b")
_LINK_TOPIC = re.compile(r"\b(?:link|url|where|lien|ou|enlace|donde|vinculo)\b")


# -- days -------------------------------------------------------------------------------------
WEEKDAY_NAMES = {
    **{
        name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday"))
    },
    "sunday": 6,
    **{name: i for i, name in enumerate(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"))},
    "dimanche": 6,
    **{name: i for i, name in enumerate(("lunes", "martes", "miercoles", "jueves", "viernes", "sabado"))},
    "domingo": 6,
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat"))},
    "sun": 6,
}
_WEEKDAY = re.compile(
    r"\b(?:(last|past|next|this|coming|on|el|le|ce)\s+)?("
    + "|".join(sorted(WEEKDAY_NAMES, key=len)[::-1])
    + r")"
    r"\b(?:\s+(dernier|derniere|passe|pasado|prochain|proximo|que viene|qui vient))?"
)
_NEXT_WEEK = re.compile(
    r"\bnext week\b|\bsemaine prochaine\b|\bsemaine pro\b|\bproxima semana\b|\bsemana que viene\b"
    r"|\bsiguiente semana\b|\bafter the weekend\b|\bapres le (?:week-end|weekend|we)\b"
    r"|\bdespues del fin de semana\b"
)
_RELATIVE = {
    "yesterday": -1,
    "hier": -1,
    "ayer": -1,
    "day before yesterday": -2,
    "avant-hier": -2,
    "avant hier": -2,
    "anteayer": -2,
    "antier": -2,
    "today": 0,
    "this morning": 0,
    "aujourd'hui": 0,
    "ce matin": 0,
    "hoy": 0,
    "esta manana": 0,
    "tomorrow": 1,
    "demain": 1,
    "manana": 1,
    "pasado manana": 2,
    "apres-demain": 2,
    "apres demain": 2,
    "day after tomorrow": 2,
}
_RELATIVE_RX = re.compile(r"\b(" + "|".join(sorted(_RELATIVE, key=len)[::-1]) + r")\b")
_DATEISH = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|"
    r"\b\d{1,2}(?:st|nd|rd|th|er)?\s+(?:de\s+|of\s+)?(?:jan|feb|fev|mar|apr|avr|abr|may|mai|jun|juin"
    r"|jul|juil|aug|"
    r"aou|ago|sep|oct|nov|dec|dic|ene)[a-z]*\b(?:\s+(?:de\s+)?\d{4}\b)?|\b(?:in|dans|en) (?:\d+|a|one"
    r"|two|three|a few|une|deux|trois"
    r"|quelques|un|dos|tres|unos) (?:days?|weeks?|jours?|semaines?|dias?|semanas?)\b"
    r"|\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b|\b(?:end of|fin de)(?: la| l'| el)? (?:week|month"
    r"|semaine|mois|"
    r"semana|mes)\b"
)


def _weekday(match: re.Match[str], today: date, past: bool) -> date:
    before, name, after = match.group(1) or "", match.group(2), match.group(3) or ""
    target = WEEKDAY_NAMES[name]
    if before in {"last", "past"} or after in {"dernier", "derniere", "passe", "pasado"}:
        past = True
    elif before in {"next", "coming"} or after in {"prochain", "proximo", "que viene", "qui vient"}:
        past = False
    if past:
        return today - timedelta(days=(today.weekday() - target) % 7 or 7)
    return today + timedelta(days=(target - today.weekday()) % 7 or 7)


def read_day(
    text: str, local_now: datetime, *, past: bool, languages: Iterable[str] = ("en", "fr", "es")
) -> date | None:
    """The day a phrase names ("yesterday", "last Tuesday", "mardi dernier", "el viernes",
    "jeudi 17 décembre", "next week", "in 3 days"), or None. ``past`` says which way a bare
    weekday points: a completion is in the past, a reminder in the future."""
    cleaned = normalise(text)
    today = local_now.date()
    relative = _RELATIVE_RX.search(cleaned)
    if relative:
        return today + timedelta(days=_RELATIVE[relative.group(1)])
    if _NEXT_WEEK.search(cleaned):
        return today + timedelta(days=7 - today.weekday())
    dated = _DATEISH.search(cleaned)
    if dated:
        found = _dateparser(dated.group(0), local_now, past=past, languages=languages)
        if found is not None:
            return found
    weekday = _WEEKDAY.search(cleaned)
    if weekday:
        return _weekday(weekday, today, past)
    return None


def _dateparser(phrase: str, local_now: datetime, *, past: bool, languages: Iterable[str]) -> date | None:
    phrase = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th|er)\b", r"\1", phrase)
    parsed = dateparser.parse(
        phrase,
        languages=list(languages),
        settings={
            "PREFER_DATES_FROM": "past" if past else "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "RETURN_AS_TIMEZONE_AWARE": False,
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": "DMY",
        },
    )
    return parsed.date() if parsed else None


# -- holidays a snooze may name -----------------------------------------------------------------
EID_DATES = (
    date(2026, 3, 20),
    date(2026, 5, 27),
    date(2027, 3, 10),
    date(2027, 5, 17),
    date(2028, 2, 27),
    date(2028, 5, 5),
    date(2029, 2, 15),
    date(2029, 4, 24),
    date(2030, 2, 5),
    date(2030, 4, 13),
)
"""Eid al-Fitr and Eid al-Adha (expected dates; local sightings may differ by a day)."""
_EID = re.compile(r"\b(?:eid|aid|aid el|ramadan|ramadhan|ramzan|idd|el aid|tabaski)\b")
_YEAR_END = re.compile(
    r"\b(?:holidays?|christmas|xmas|new year|festivities|fetes|noel|nouvel an|jour de l'an|vacances|fiestas|"
    r"navidad|ano nuevo|vacaciones|break|conges)\b"
)


def after_holiday(cleaned: str, today: date) -> tuple[date, Default] | None:
    """A sensible day for "after Eid", "after the holidays", "when I'm back" (the bot states it)."""
    if _EID.search(cleaned):
        upcoming = [day for day in EID_DATES if day >= today - timedelta(days=2)]
        if upcoming:
            return upcoming[0] + timedelta(days=3), Default.EID
        return today + timedelta(days=14), Default.EID
    if _YEAR_END.search(cleaned):
        if today.month == 12 or (today.month == 1 and today.day <= 3):
            new_year = date(today.year + (1 if today.month == 12 else 0), 1, 4)
            return new_year + timedelta(days=(7 - new_year.weekday()) % 7), Default.HOLIDAYS
        return today + timedelta(days=14), Default.HOLIDAYS
    return None


# -- reading a reply ---------------------------------------------------------------------------
def understand(text: str, local_now: datetime, language: str = "en") -> Intent | None:
    """What a typed reply to a reminder means, or None when it is no reply at all (a link, a
    sentence about something else): then the normal assistant answers."""
    cleaned = normalise(text)
    if not cleaned:
        return None
    languages = _languages(language)
    if all(word in _ACK_WORDS for word in cleaned.split()) and cleaned != "?":
        return Intent(Kind.THANKS)
    if _STOP.search(cleaned):
        return Intent(Kind.STOP)
    if _HELP.search(cleaned):
        return Intent(Kind.HELP)
    after = _after(cleaned, local_now, languages)
    if after is not None:
        return after
    return _status(cleaned, local_now, languages) or _plans(cleaned, local_now, languages)


def _languages(language: str) -> list[str]:
    first = language if language in {"en", "fr", "es"} else "en"
    return [first, *(other for other in ("en", "fr", "es") if other != first)]


def _after(cleaned: str, local_now: datetime, languages: list[str]) -> Intent | None:
    """ "after Eid", "après les fêtes", "when I'm back on the 5th": a snooze, never leave or done."""
    found = _AFTER.search(cleaned)
    if found is None or (_DONE.search(cleaned[: found.start()]) and not _NOT_YET.search(cleaned)):
        return None
    rest = cleaned[found.start() :]
    day = read_day(rest, local_now, past=False, languages=languages)
    if day is not None and day > local_now.date():
        return Intent(Kind.SNOOZE, on=day + timedelta(days=1) if "after" in rest or "apres" in rest else day)
    holiday = after_holiday(rest, local_now.date())
    if holiday is not None:
        return Intent(Kind.SNOOZE, on=holiday[0], default=holiday[1])
    return Intent(Kind.SNOOZE, on=local_now.date() + timedelta(days=7), default=Default.BACK)


def _status(cleaned: str, local_now: datetime, languages: list[str]) -> Intent | None:
    """Leave, exemption, not mine, not yet, done: in that order (negatives before done)."""
    if _ON_LEAVE.search(cleaned):
        back = read_day(cleaned, local_now, past=False, languages=languages)
        return Intent(Kind.ON_LEAVE, on=back if back and back > local_now.date() else None)
    if _EXEMPT.search(cleaned):
        return Intent(Kind.EXEMPT)
    if _NOT_MINE.search(cleaned):
        return Intent(Kind.NOT_MINE)
    if _NOT_YET.search(cleaned) or _FUTURE.search(cleaned):
        day = read_day(cleaned, local_now, past=False, languages=languages)
        if day is not None and day > local_now.date():
            return Intent(Kind.SNOOZE, on=day)
        return Intent(Kind.NOT_YET)
    if _DONE.search(cleaned):
        day = read_day(cleaned, local_now, past=True, languages=languages)
        return Intent(Kind.DONE, on=day if day is not None and day <= local_now.date() else None)
    return None


def _plans(cleaned: str, local_now: datetime, languages: list[str]) -> Intent | None:
    """Snoozes, questions and short replies that need asking back."""
    if _SNOOZE.search(cleaned):
        # A day in the past is passed on as it is, so the answer can say so ("isn't in the future").
        return Intent(Kind.SNOOZE, on=read_day(cleaned, local_now, past=False, languages=languages))
    if "?" in cleaned or _QUESTION_START.search(cleaned):
        if _UNCLEAR_WHOLE.match(cleaned):
            return Intent(Kind.UNCLEAR)
        topic = "due" if _DUE_TOPIC.search(cleaned) else "link" if _LINK_TOPIC.search(cleaned) else ""
        if not topic and not _ABOUT_COURSE.search(cleaned):
            return None  # "what's the weather?" is a question, but not about the reminder
        return Intent(Kind.QUESTION, topic=topic)
    if _UNCLEAR_WHOLE.match(cleaned):
        return Intent(Kind.UNCLEAR)
    day = read_day(cleaned, local_now, past=False, languages=languages)
    if day is not None and day > local_now.date() and len(cleaned.split()) <= 6:
        return Intent(Kind.SNOOZE, on=day)
    return None
