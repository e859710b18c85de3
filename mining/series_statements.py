"""Where a report names the series of its images: statements for the whole report ("All image numbers refer to series
3"), headings over a list ("Series 4:"), line labels ("Series 3: 4 mm nodule (image 45)"), corrections in an addendum,
and statements naming each prior exam's series ("series 3 on this study, series 2 on the 2019 CT")."""
from __future__ import annotations

import re
from typing import NamedTuple

import regex

from mining.rules import BranchScan


#: Every exam of the report: "of each study", "on all three studies", "for both exams".
_EACH_EXAM = (r"(?:of|on|in|for)\s+(?:the\s+)?(?:each|every|both|all(?:\s+(?:two|three|four|\d))?)\s+"
              r"(?:studies|study|exams?|examinations?|scans?|cts?)\b")
#: After a series statement, in its sentence: it holds for the prior exam's images too.
_PRIORS_TOO = regex.compile(
    r"[^.;\n]{0,80}?\b(?:(?:auch|ebenso|gleichermaßen)\s+(?:für|in|auf)\s+(?:die|der|den)\s+(?:vorauf|voruntersuch|vu\b|vergleichs)"
    r"|(?:also|too|as\s+well|including)\s+(?:for|on|in|to|für|auf)?\s*(?:the\s+|die\s+|der\s+)?(?:prior|previous|comparison|"
    r"vorauf|voruntersuch|vergleichs)"
    # each exam's own series of that number: "Bildangaben jeweils Serie 3 der betreffenden Untersuchung"
    r"|(?:der|in\s+der)\s+(?:jeweiligen|betreffenden|entsprechenden)\s+untersuchung"
    # both exams named: "Bildnummern beziehen sich jeweils auf Serie 3 der aktuellen bzw. der Voruntersuchung"
    r"|(?:der\s+)?aktuellen\s+(?:und|bzw\.?|sowie|wie)\s+(?:der\s+|auf\s+die\s+)?(?:vorauf|voruntersuch|vu\b|vergleichs|vor-?ct)"
    r"|(?:of|on|in|for)\s+(?:both\s+)?(?:the\s+)?current\s+(?:and|&)\s+(?:the\s+)?(?:prior|previous|comparison)"
    r"|(?:of|on|in)\s+(?:the\s+)?(?:respective|each|corresponding)\s+(?:study|exam|examination|scan|ct)"
    # "(series 4 on all three studies)"
    r"|" + _EACH_EXAM +
    # both exams named: "(Bildangaben: Serie 3, akt. / VU jeweils Serie 3)"
    r"|(?:akt\.|aktuell|current)\s*/\s*(?:vu|voruntersuchung|prior)"
    # "(aktuell wie Baseline)"
    r"|(?:akt\.|aktuell|current)\s+(?:wie|ebenso\s+wie|as\s+well\s+as|and|und)\s+(?:(?:die|der|the)\s+)?(?:baseline|vu|"
    r"voruntersuchung|vorbefund|prior)\b"
    # "Bildnummern beziehen sich auf Serie 2 (Lungenfenster 1 mm), jeweils aktuell und VU"
    r"|(?:jeweils|both|each)\s+(?:akt\.|aktuell|current)\s+(?:und|and|&|bzw\.|sowie)\s+(?:(?:die|der|the)\s+)?"
    r"(?:vu|voruntersuchung|vorbefund|prior|previous|comparison)\b"
    # the prior exam's the same: "Bildnummern aus der axialen Lungenserie (Serie 3), Vorbefund ebenso Serie 3"
    r"|(?:vorbefund|voruntersuchung|vu|voraufnahme|vergleichsuntersuchung|prior|previous)\s+(?:ebenso|ebenfalls|likewise)\b)",
    regex.IGNORECASE)

#: A series named, then a statement that the report's images are of it: "Serie 3 (320 Bilder), alle Bildangaben im Befund
#: beziehen sich auf diese Serie", "series 3; all image numbers refer to this series".
_THIS_SERIES = regex.compile(
    r"\b(?:serie|series)\s*(?P<ser>\d{1,5})\b[^.;\n]{0,40}?\b(?:alle\s+|all\s+)?(?:bildangaben|bildnummern|bild-?nrn?\.|"
    r"schichtnummern|image\s+numbers|images|image\s+references)\b[^.;\n]{0,30}?\b(?:beziehen\s+sich\s+auf|refer\s+to|are\s+from)"
    r"\s+(?:diese|this|that)\s+(?:serie|series)\b", regex.IGNORECASE)

#: A series said to hold for the images cited after it: "Abschlussserie (Serie 7, gilt für alle folgenden Bildangaben):",
#: "(series 7, applies to all following images)"; it holds for the rest of its section.
_SERIES_FOLLOWING = regex.compile(
    r"\b(?:serie|series)\s*(?P<ser>\d{1,5})\s*[,;:]\s*(?:gilt\s+für\s+(?:alle\s+)?(?:folgenden|nachfolgenden|weiteren)"
    r"\s+(?:bildangaben|bildnummern|bilder|angaben)|(?:applies|refers)\s+to\s+(?:all\s+)?(?:the\s+)?(?:following|subsequent)"
    r"\s+(?:images|image\s+numbers|references)|for\s+all\s+(?:the\s+)?(?:following|subsequent)\s+images)\b", regex.IGNORECASE)

#: An addendum correcting the series of the report's images: "Die oben genannten Bildnummern beziehen sich nicht auf
#: Serie 4 (Weichteil), sondern auf Serie 5", "the image numbers above refer not to series 4 but to series 5".
_SERIES_CORRECTED = regex.compile(
    r"\b(?:bildnummern|bildangaben|bilder|image\s+numbers|images)\b[^.\n]{0,60}?\b(?:beziehen\s+sich\s+nicht\s+auf"
    r"|refer\s+not\s+to|do\s+not\s+refer\s+to|are\s+not\s+(?:on|from))\s+(?:die\s+|the\s+)?(?:serie|series)\s*\d{1,5}"
    r"[^.\n]{0,40}?(?:,\s*)?\b(?:sondern\s+auf|but\s+(?:to|on|from))\s+(?:die\s+|the\s+)?(?:serie|series)\s*"
    r"(?P<ser>\d{1,5})\b",
    regex.IGNORECASE)

#: "Se."/"Ser."/"S." for a series word, or "(Se 7" opening a bracket: where a text has neither it nor "serie" (nor
#: "Bildangaben Se 3"), it names no series for its images.
_SE_DOT = re.compile(r"\b[Ss](?:[Ee][Rr]?)?\.|\([ \t]*[Ss][Ee][Rr]?[ \t]*\d")
_SE_NAMED = re.compile(r"(?i:bildangaben|bildnummern|image\s+numbers?|images)\s*[:=]?\s*[Ss][Ee]\b"
                       r"|(?i:\b(?:ima|image|img)\s+nos?\.?(?:\s*\(\s*\#\s*\))?\s*=)")

#: A series named as the rule with its exceptions: "(axial series 4 unless stated)", "Serie 2, soweit nicht anders
#: angegeben", "Sl.-Nummer in Lungenfenster (Serie 6), wenn nicht andere angegeben".
_SERIES_UNLESS = regex.compile(
    r"\b(?:series|serie)\s*(?P<ser>\d{1,5})\s*\)?\s*,?\s*"
    r"(?:unless\s+(?:otherwise\s+)?(?:stated|noted|specified|indicated)"
    r"|(?:soweit|sofern|wenn|falls)\s+nicht\s+andere?s?\s+(?:angegeben|vermerkt|bezeichnet|genannt|gekennzeichnet))\b",
    regex.IGNORECASE)

#: After a series statement, in its sentence: the prior exam's images are of another series ("..., bzw. auf Serie 4 der
#: Voruntersuchung", "and to series 2 of the prior study", "series 3 (current) and series 2 (prior)").
_PRIOR_SERIES = regex.compile(
    r"[^.;\n]{0,60}?(?:\bbzw\.|\b(?:und|sowie|and)\b|,)\s*(?:auf\s+|to\s+)?(?:die\s+|the\s+)?\b(?:serie|series)\s*(?P<ser>\d{1,5})"
    r"(?:\s+(?:der|in\s+der|für\s+die|of\s+the|on\s+the|for\s+the)\s+|\s*\(\s*)(?:voruntersuchung|vu|voraufnahme|"
    r"vergleichsuntersuchung|prior|previous|comparison)\b", regex.IGNORECASE)

#: ... or after a label of the prior exam: "Bildnummern aktuell: Serie 4; Voruntersuchung 18.10.2023: Serie 3", "aktuelle
#: Untersuchung Serie 3 (Lungenfenster 1 mm), Voruntersuchung vom 13.03.2024 Serie 5",
#: "Bildnummern: aktuell Serie 201, Voruntersuchung Serie 3", "IMA-Nummern aktuell Serie 3, Voruntersuchung T1 ebenfalls
#: Serie 3", "..., in beiden Voruntersuchungen jeweils Serie 2".
_PRIOR_SERIES_LABELLED = regex.compile(
    r"[ \t]*(?:\([^()\n]{0,40}\))?[ \t]*[;,][ \t]*(?:(?:in|auf|bei|on)[ \t]+(?:der|den|beiden|allen|both|all|the)[ \t]+)?"
    r"(?:voruntersuchung(?:en)?|vorunt\.|vu|prior(?:[ \t]+(?:studies|study|exams?))?|previous|comparison)(?:[ \t]+(?:vom[ \t]+|of[ \t]+)?"
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|[ \t]+(?-i:T|FU|TP)\d{1,2})?[ \t]*:?[ \t]*(?:(?:ebenfalls|ebenso|auch|jeweils|likewise|also)[ \t]+)?"
    r"(?:serie|series)[ \t]*(?P<ser>\d{1,5})\b", regex.IGNORECASE)

#: ... or after "those of the prior": "Die Bildangaben beziehen sich auf Serie 3 (Lunge), die der Voruntersuchung auf
#: deren Serie 2", "..., die der Voruntersuchung vom 08.08.2023 auf Serie 2", "image numbers refer to series 3, those of
#: the prior to series 2", or "for the prior": "Alle Bildangaben beziehen sich auf Serie 5 (axial, 1 mm), für die Voruntersuchung
#: auf Serie 4".
_PRIOR_SERIES_THOSE = regex.compile(
    r"[ \t]*(?:\([^()\n]{0,40}\))?[ \t]*[;,][ \t]*(?:(?:die|diejenigen|those)[ \t]+(?:der|of[ \t]+the)|für[ \t]+die|for[ \t]+the)[ \t]+"
    r"(?:voruntersuchung|vu|voraufnahme|vergleichsuntersuchung|prior|previous|comparison)(?:[ \t]+(?:study|exam|ct))?"
    r"(?:[ \t]+(?:vom|of|from)[ \t]+\d{1,2}[./]\d{1,2}[./]\d{2,4})?"
    r"[ \t]+(?:auf|to|refer[ \t]+to|are[ \t]+(?:on|from))[ \t]+(?:deren[ \t]+|die[ \t]+|its[ \t]+|the[ \t]+)?"
    r"(?:serie|series)[ \t]*(?P<ser>\d{1,5})\b", regex.IGNORECASE)


#: An aside a series statement may hold: "Bildnummern (IMA) beziehen sich, soweit nicht anders angegeben, auf Serie 6".
_UNLESS = (r"\s*[,\u2013\u2014-]\s*(?:(?:soweit|sofern|wenn|falls)\s+nicht\s+anders|unless\s+otherwise)\s+"
           r"(?:angegeben|angeführt|aufgeführt|erwähnt|vermerkt|bezeichnet|genannt|gekennzeichnet|stated|noted|specified|indicated)"
           r"\s*[,\u2013\u2014-]")
_ASIDE = r"(?:\s*\([^()\n]{1,30}\))?(?:" + _UNLESS + ")?"
#: A statement naming the series the report's image numbers refer to, or (group "head") a list heading naming the series
#: of its section's images.
_SERIES_STATEMENT = regex.compile(
    r"\b(?:(?:all\s+)?(?:(?:image|ima|img)\s+(?:numbers?|nos?\.)"
    # not the images of one series named by what they show: "Expiratory images are series 7"
    r"|(?<!\b(?:expiratory|inspiratory|prone|coronal|sagittal|mip|mpr|reformatted|delayed|venous|arterial|bone)"
    r"\s+)images?"
    r"|image\s+references?|references|slice\s+numbers?|slices)"
    r"(?:\s+(?:below|above|herein|cited|quoted|given|listed|mentioned|used|referenced|in\s+this\s+report"
    r"|in\s+the\s+report(?:\s+above)?"
    r"|in\s+(?:the\s+|this\s+)?(?:[\w-]+\s+)?section|(?:of|for|on|in)\s+(?:the\s+)?current"
    r"\s+(?:study|exam|examination|ct|scan)))?" + _ASIDE + r"\s+"
    r"(?:refers?|are|is|relates?|corresponds?)" + _ASIDE
    # "Image numbers are quoted as image/total of axial series 3"
    + r"(?:\s+(?:quoted|given|cited|stated|listed|written)\s+as\s+(?:\"[^\"\n]{1,30}\"|[\w/-]+(?:\s+[\w/-]+)?)"
    r"\s+(?:of|on|in|from))?"
    r"\s+(?:to\s+|from\s+|on\s+|in\s+)?"
    r"(?:the\s+)?(?:(?:(?:\d+[.,]\d+|[\w/-]+)\s+){0,5}?(?:series|reconstructions?)(?:\s+" + _EACH_EXAM + ")?"
    # or what it shows and its number in brackets: "refer to the axial CT (series 3, 3 mm)"
    r"|(?:[\w-]+\s+){0,2}?[\w-]+(?=\s*\(\s*series\s*\d))|"
    r"(?:image\s+numbers?|image\s+references?|all\s+images|bildnummern|bildangaben)(?:\s+(?:aktuell|akt\.|current))?\s*:\s*(?:the\s+|die\s+)?(?:(?:(?:\d+[.,]\d+|[\w-]+|[\w]+\.|=)\s+){0,5}?[\w-]*series?|se\.?(?=\s*\d))|(?P<head>(?:images?|image\s+numbers?)\s+(?:from|of|on)\s+(?:the\s+)?(?:axial\s+)?series(?=\s*\#?\s*\d+\s*:))|"
    r"(?:alle\s+)?(?:bildangaben|bildnummern|bildverweise|bilder|bildnummer|schichtangaben|schichtnummern|bild-?nrn?\.|(?:ima|img|bildnr)\.?-?angaben|ima-?nummern)"
    r"(?:\s+(?:(?:der|zur|für\s+die)\s+(?:aktuellen\s+|akt\.\s*|heutigen\s+|vorliegenden\s+)|dieser\s+)untersuchung"
    r"|\s+ohne\s+(?:serie|serienangabe|serienbezeichnung|seriennummer|seriennennung|angabe\s+der\s+serie)\b|\s+im\s+befund|\s+(?P<vu>der\s+(?:vu|voruntersuchung))"
    # what they show: "Alle Bildangaben für das Lungenparenchym beziehen sich auf Serie 5"
    r"|\s+für\s+(?:das|die|den)\s+(?!vu\b|vor|vergleich|aktuelle)[\w-]+"
    # the section's: "Die nachfolgenden Bildangaben dieses Abschnitts beziehen sich auf Serie 4"
    r"|\s+(?:dieses|des)\s+(?:abschnitts|absatzes|abschnittes))?"
    + _ASIDE + r"\s+(?:beziehen\s+sich" + _ASIDE + r"\s+(?:(?:ebenfalls|auch|jeweils|stets|immer)\s+)?)?(?:auf|aus)\s+(?:die\s+|der\s+)?"
    # the series, or what it shows and its number in brackets: "auf die Rückenlage (Serie 2)", "auf die axiale
    # Knochenrekonstruktion 1 mm (Serie 6)"
    r"(?:(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?[\w-]*(?:serie|rekonstruktion)|(?:se|ser|s)\.|(?-i:SE|Se)(?=\s*\d)"
    r"|(?:[\w-]+\s+){0,3}?[\w-]+(?=\s*\(\s*serie\s*\d))"
    # and then this exam's: "auf die axiale Lungenrekonstruktion 1 mm, aktuell Serie 3, in beiden Voruntersuchungen ..."
    r"(?:\s+\d+(?:[.,]\d+)?\s*mm\s*,\s*(?:aktuell|akt\.|current)\s+(?:serie|series))?|"
    # the series alone after the word: "Aktueller Befund (Bildangaben Se 3, Lungenkern 1 mm):", "Bildnummern: Serie 4",
    # or after its plane or window: "Angegebene Abbildungen axial Serie 3", "Bildangaben: axiale Lungenserie 5"
    r"(?:bildangaben|bildnummern|(?<=angegebene\s)abbildungen)\s*:?\s*"
    r"(?:(?:axial|koronar|sagittal)\w*\s+|(?:lungen|weichteil)\w*\s+)*?[\w-]*?(?:serie|ser\.?|se\.?)(?=\s*\d)|"
    # or with an equals sign: "BILDNR. = SERIE 2 (WEICHTEILFENSTER)"
    r"(?:bildnr\.?|bildnummern?|bildangaben|image\s+nos?\.?|image\s+numbers?)\s*=\s*(?:serie|series|se\.?)(?=\s*\d)|"
    # or what the series shows first: "IMA nos = axial 1 mm CTPA (Se 3)", "Image nos (#) = axial lung series 6"
    r"(?:ima|image|img)\s+nos?\.?(?:\s*\(\s*\#\s*\))?\s*=\s*(?:(?:\d+[.,]?\d*|[\w-]+)\s+){1,5}?(?:\(\s*)?(?:series|se\.?)(?=\s*\d)|"
    # the exam's, without a verb: "Bildangaben akt. Unters. Serie 4 (Lunge 1,5mm)", "Bildnummern der aktuellen
    # Untersuchung: Serie 3"
    r"(?:bildangaben|bildnummern|schichtangaben)\s+(?:der\s+)?(?:akt\.|aktuellen?)\s*(?:unters\.|untersuchung)\s*:?\s*"
    r"(?:serie|se\.)|"
    # the exam's, with the prior's after it: "aktuelle Untersuchung Serie 3, Voruntersuchung Serie 2", "current exam
    # series 3, prior exam series 2" (both named: a legend, not a sentence about one series)
    r"(?:(?:aktuelle|heutige)\s+(?:untersuchung|unters\.)|(?:current|today'?s)\s+(?:study|exam|examination|ct|scan))"
    r"\s*:?\s*(?:serie|series|se\.)(?=\s*\d{1,5}\b[ \t]*(?:\([^()\n]{0,40}\))?[ \t]*[;,][ \t]*(?:der\s+|the\s+)?"
    r"(?:voruntersuchung|vorunt\.|vu|prior|previous|comparison)\b)|"
    # without a verb: "Note: image numbers from series 5.", "Alle Bildnummern in Serie 4."
    r"(?:image\s+numbers|image\s+references|slice\s+numbers)\s+(?:are\s+)?(?:from|on|in)\s+(?:the\s+)?(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?series|"
    # or after "laut": "Bildnummern lt. Serie 2", "Angaben Ima-Nr. der axialen Serie 5", "Bildangaben aktuell jeweils
    # Serie 5", "Bildangaben (#) jeweils Serie 3"
    r"(?:alle\s+)?(?:bildangaben|bildnummern|schichtangaben|angaben\s+(?:ima|img|bild)-?nrn?\.)(?:\s*\([^()\n]{1,12}\))?\s+"
    r"(?:(?:aktuell|akt\.)\s*)?"
    r"(?:jeweils\s+(?:(?:in|der|von|zu|aus)\s+(?:der\s+)?)?|(?:in|der|von|zu|lt\.|laut|gem\.|gemäß)\s+(?:der\s+)?)"
    r"(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?[\w-]*serie|"
    # or with an aside for a verb: "Bildangaben, sofern nicht anders vermerkt, Serie 4", "Bildnummern im Text – soweit
    # nicht anders genannt – Serie 5"
    r"(?:bildangaben|bildnummern|schichtangaben|image\s+numbers)(?:\s+(?:im\s+(?:text|befund)|in\s+the\s+(?:text|report)))?"
    + _UNLESS + r"\s*(?:(?:in|aus|auf|from|on)\s+)?(?:der\s+|the\s+)?"
    r"(?:serie|series)|"
    # the series a pasted analysis names: "Analysierte Serie: 4 | Schichtdicke 1,0 mm", "Analyzed series: 4"
    r"(?:analysierte|ausgewertete|analy[sz]ed|evaluated)\s+(?:serie|series)\s*:|"
    # or the report's reference series: "Referenzserie: Serie 3 (Lungenkernel, 1 mm)", "Reference series: 4"
    r"(?:referenzserie|befundungsserie|bezugsserie|reference\s+series)\s*(?=[:(,]))"
    # (a described series may give its slice thickness: "the 3.0 mm axial series (series 2)", "die 1,5 mm Lungenserie")
    # the number, or the series described and then numbered: "the lung window series (series 4)", "venöse Serie (Serie 6)",
    # "the axial lung series, series 3"
    # "the axial lung series: series 3 (current) and series 2 (prior)"
    r"\s*(?:[(,:]\s*(?:series|serie|ser\.?|se\.?)\s*)?(?:\#|no\.?|nr\.?)?\s*(?P<ser>\d{1,5})\b"
    # not one of several: "image numbers in series 3 and 4 differ" (but "(Serie 5, 1 mm, 680 Bilder)" is one)
    # nor a slice thickness: "auf die axiale Lungenrekonstruktion 1 mm"
    r"(?!\s*(?:and|or|und|oder|/)\s*\d|\s*,\s*\d+(?![.,]?\d*\s*(?:mm|cm|bilder|images|slices|schichten)\b)|(?:[.,]\d+)?\s*mm\b)",
    regex.IGNORECASE,
)
_EACH_EXAM_RX = regex.compile(_EACH_EXAM, regex.IGNORECASE)
#: The statement's scan, branch by branch (`rules.BranchScan`: 96 -> 79 us a report, 120 -> 82 on the blind reports).
_STATEMENT_SCAN = BranchScan([_SERIES_STATEMENT])


#: A line that only names a series, heading the list of images below it ("Series 4:", "- Serie 6:", "Nodules (series
#: 4):", "Lunge (Se. 6):"), tried only on lines that end in a colon (`_heading_lines`: tried on every line start it cost
#: 85 us a 2 KB report).
_SERIES_HEADING_LINE = regex.compile(
    r"[ \t]*(?:[-*\u2022][ \t]*)?(?:[^\n:()]{1,60}?\([^()\n]{0,60}?\b)?(?:series|serie|ser\.?|se\.?)\s*(?:\#|no\.?|nr\.?)?\s*(?P<ser>\d{1,5})(?!\d)"
    # and what the brackets say of it: "Pulmonale Metastasen (Serie 3 in beiden Untersuchungen; Bildnummer aktuell / VU):"
    r"(?:\s*\)|(?P<aside>[ \t;,][^()\n]{0,80})\))?\s*:",
    regex.IGNORECASE,
)
#: ... saying it holds for both exams' images.
_BOTH_EXAMS = regex.compile(r"\b(?:(?:in|für|auf)\s+)?beiden\s+untersuchungen\b|\b(?:in|on|for)\s+both\s+(?:studies|exams|examinations|scans)\b"
                            r"|\b" + _EACH_EXAM, regex.IGNORECASE)  # "(axial series 3 on all studies; ...):"
_LINE_ENDS_IN_COLON = regex.compile(r":[ \t]*(?=\n|\Z)")


#: A line opening with a series label, its findings after it on the same line: "Series 3: 4 mm nodule (image 45). ...",
#: "Serie 2 (axial, 1 mm): Drainage (Bild 22)" (not the prior's: "Series 2 (prior): ...").
#: (Python's `re`: its scan of line starts is twice as fast here.)
_SERIES_LINE_LABEL = re.compile(
    r"^[ \t]*(?:[-*\u2022][ \t]*)?(?:series|serie)[ \t]*(?:\#|no\.?|nr\.?)?[ \t]*(?P<ser>\d{1,5})[ \t]*"
    r"(?:\((?![^()\n]*\b(?:vu|voruntersuchung|vor-ct|prior|previous|comparison|vergleich|baseline)\b)[^()\n]{1,40}\)[ \t]*)?"
    r":[ \t]+(?=\S)",
    re.IGNORECASE | re.MULTILINE)
#: ... or a label naming its series in brackets, opening a line or a sentence: "Planungsscan (Serie 2, 3 mm): Rundherd ...
#: auf Bild 57", "Lunge (Se 7): ... (Ima 245)", "Lunge (Lungenfenster, Serie 6): ... (Bild 66)", not the prior's ("Lunge
#: (VU Serie 3): ..."); scanned only where a text has a bracket closed before a colon (`_BRACKET_COLON`: 60 us a report
#: saved).
_SERIES_BRACKET_LABEL = re.compile(
    r"(?:^|(?<=[.!?][ \t]))[ \t]*[^\W\d_][^\n:()]{0,40}?\("
    r"(?![^()\n]*\b(?:vu|voruntersuchung|vor-ct|prior|previous|comparison|vergleich|baseline)\b)"
    r"(?:[ \t]*[^\W\d_][\w-]*,?){0,3}?[ \t]*(?:series|serie|se\.?|ser\.?)[ \t]*(?P<ser>\d{1,5})(?![\d/:])[^()\n]{0,30}\)"
    r"[ \t]*:[ \t]+(?=\S)",
    re.IGNORECASE | re.MULTILINE)
_BRACKET_COLON = re.compile(r"\)[ \t]*:")


#: A series statement naming each exam's series ("series 3 on this study, series 3 on the 2022 HRCT and series 2 on the
#: 2019 CT", "baseline CT series 2; interim PET-CT (low-dose CT) series 4", "Baseline Serie 3, Interim Serie 4"): one
#: item, the series after or before its exam's label (a year, a date, or the exam's kind).
_EXAM_LABEL_WORD = r"(?:19|20)\d\d-\d\d-\d\d|\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d|(?:19|20)\d\d|baseline|interim|nadir"
_EXAM_SERIES_ITEM = regex.compile(
    rf"\b(?:series|serie)[ \t]*(?P<ser>\d{{1,5}})[ \t]+(?:on|of|in|for|der|in[ \t]+der)[ \t]+(?:the[ \t]+)?"
    rf"(?P<label>{_EXAM_LABEL_WORD})\b"
    rf"|\b(?P<label2>{_EXAM_LABEL_WORD})(?:[ \t]+(?:ct|hrct|cta|pet-?ct|study|scan|exam|untersuchung))?"
    rf"(?:[ \t]*\([^()\n]{{0,30}}\))?[ \t]*:?[ \t]*(?:series|serie)[ \t]*(?P<ser2>\d{{1,5}})\b", regex.IGNORECASE)
#: ... in a sentence about the report's image numbers.
NUMBERS_SENTENCE = regex.compile(r"image\s+(?:numbers?|references?)|images?\s+(?:quoted|cited)|series\s+used|bildangaben"
                                  r"|bildnummern|ima-nummern", regex.IGNORECASE)
_KIND = regex.compile(r"\b(?:baseline|interim|nadir)\b", regex.IGNORECASE)
#: The last exam label before a reference in its sentence: its exam's key (`exam_key`).
_LABEL_BEFORE = regex.compile(rf"(?r)\b(?:{_EXAM_LABEL_WORD})\b", regex.IGNORECASE)
#: An exam's date and its kind named together: "CT 19.09.2023 (Baseline)", "Baseline: CT vom 19.09.2023".
_DATE_KIND = regex.compile(
    r"(?P<date>\d{1,2}\.\d{1,2}\.(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)[ \t]*\([ \t]*(?P<kind>baseline|interim|nadir)\b"
    r"|\b(?P<kind2>baseline|interim|nadir)[ \t]*:?[ \t]*(?:ct[ \t]+)?(?:vom[ \t]+|from[ \t]+|of[ \t]+)?"
    r"(?P<date2>\d{1,2}\.\d{1,2}\.(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)", regex.IGNORECASE)
_SENTENCE_START = regex.compile(r"(?r)[.!?](?=\s)|\n")


def exam_key(label: str) -> str:
    """The key of a prior exam's label: its kind ("baseline", "interim", "nadir"), its date (day, month, year), else its
    year."""
    low = label.lower()
    if _KIND.fullmatch(low):
        return low
    n = regex.findall(r"\d+", low)
    if len(n) == 3:
        return "-".join(n) if len(n[0]) == 4 else "-".join(reversed(n)) if "." in low else low
    return n[0] if n else low


def exam_series(text: str) -> dict[str, int]:
    """{exam key: series} from the report's statements naming each prior exam's series (`_EXAM_SERIES_ITEM`), where one
    key names one series; an exam named both by its date and its kind ("CT 19.09.2023 (Baseline)") under both."""
    found: dict[str, set[int]] = {}
    for m in _EXAM_SERIES_ITEM.finditer(text):
        start = _SENTENCE_START.search(text, 0, m.start())
        if NUMBERS_SENTENCE.search(text, start.end() if start else 0, m.start()) is None:
            continue
        label = m.group("label") or m.group("label2")
        found.setdefault(exam_key(label), set()).add(int(m.group("ser") or m.group("ser2")))
    out = {k: next(iter(v)) for k, v in found.items() if len(v) == 1}
    for m in _DATE_KIND.finditer(text):
        date, kind = exam_key(m.group("date") or m.group("date2")), (m.group("kind") or m.group("kind2")).lower()
        for a, b in ((date, kind), (kind, date)):
            if a not in out and b in out:
                out[a] = out[b]
    return out


def exam_label(heading: str | None, text: str, start: int, end: int) -> str | None:
    """The label naming the exam of a prior reference: its column heading's kind or date, else the last label before it
    in its sentence (`text[start:end]`)."""
    if heading is not None:
        m = _KIND.search(heading) or _LABEL_BEFORE.search(heading)
        if m is not None:
            return m.group(0)
    m = _LABEL_BEFORE.search(text, start, end)
    return None if m is None else m.group(0)


class SeriesStatement(NamedTuple):
    """Where the report names the series of its images, and how far that holds: the whole report ("All images refer to
    series 3"), the section of a heading line ("Series 4:" above a list), or the rest of a line it labels."""

    start: int
    end: int
    series: int
    scope: str  # "report", "section", "line", or "correction" (an addendum's: it holds for every image of the report)
    until: int = 0  # a "line" label's line end
    priors: bool = False  # it says it holds for the prior exam's images too ("..., auch für die Voraufnahme")
    current: bool = True  # it holds for this exam's images (not one naming the prior exam's own series)


def _heading_lines(text: str) -> list[SeriesStatement]:
    """Every line that is a `_SERIES_HEADING_LINE`."""
    out = []
    for m in _LINE_ENDS_IN_COLON.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        h = _SERIES_HEADING_LINE.fullmatch(text, start, m.start() + 1)
        if h:
            both = h.group("aside") is not None and _BOTH_EXAMS.search(h.group("aside")) is not None
            out.append(SeriesStatement(h.start(), h.end(), int(h.group("ser")), "section", priors=both))
    return out


def _line_labels(text: str) -> list[SeriesStatement]:
    """Every `_SERIES_LINE_LABEL` and `_SERIES_BRACKET_LABEL`, holding to its line's end, or, where it opens a paragraph
    (not as a list's item: "- Series 3: ..."), over the lines of prose after it to the paragraph's end ("Serie 2 (axial,
    1 mm): Drainage (Bild 22).\nResidueller Pneumothorax (Bild 140)."), up to a line opening with a label of its own
    ("Liver: cyst (image 40)"). (The two cannot overlap: a line label's match ends at its colon, which a bracket label's
    lead may not hold.)"""
    found = list(_SERIES_LINE_LABEL.finditer(text))
    if _BRACKET_COLON.search(text):
        found = sorted(found + list(_SERIES_BRACKET_LABEL.finditer(text)), key=lambda m: m.start())
    out = []
    for k, m in enumerate(found):
        until = text.find("\n", m.end())
        until = len(text) if until < 0 else until
        line = text.rfind("\n", 0, m.start())
        before = text[text.rfind("\n", 0, line) + 1:line].rstrip() if line >= 0 else ""  # the line before it
        if not text[line + 1:m.start()].strip() and not _BULLET.match(text, m.start()) and (
                not before.strip() or before.endswith(":")):
            stop = found[k + 1].start() if k + 1 < len(found) else len(text)
            while until < stop and (nxt := _PROSE_LINE.match(text, until)) is not None:
                until = min(nxt.end(), stop)
        out.append(SeriesStatement(m.start(), m.end(), int(m.group("ser")), "line", until))
    return out


#: A list item's bullet opening a label's line: the label then names its item's series only.
_BULLET = re.compile(r"[ \t]*[-*\u2022]")
#: A line that goes on with a paragraph's prose: not blank, not opening with a label and its colon ("Liver:", "Serie 4:").
_PROSE_LINE = re.compile(r"\n(?![ \t]*\n)(?![ \t]*(?:[-*\u2022][ \t]*)?[^\W\d_][^\n:.]{0,40}:)[^\n]*")


#: A series defined by what it is ("Serie 2 = axial Lunge", "Series 3 = lung 1 mm"); the report's one such definition
#: of an axial or lung series names the series of its images (a list of several names none).
_SERIES_DEFINED = regex.compile(r"\b(?:serie|series|se)\.?[ \t]*(?P<ser>\d{1,5})[ \t]*=[ \t]*(?P<what>[^\n,;=]{1,40})",
                                regex.IGNORECASE)
_READING_SERIES = regex.compile(r"\b(?:axial\w*|ax\.|lunge\w*|lungen\w*|lung)\b", regex.IGNORECASE)


def _sole_definition(text: str) -> list[SeriesStatement]:
    """The report's only `_SERIES_DEFINED`, when it is of an axial or lung series."""
    if "=" not in text:
        return []
    found = list(_SERIES_DEFINED.finditer(text))
    if len({m.group("ser") for m in found}) != 1 or not _READING_SERIES.search(found[0].group("what")):
        return []
    m = found[0]
    return [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "report")]


#: The prior exam named right before a statement's subject: "Prior images are on series 5 of the 06/11/2023 study".
_PRIOR_LEAD = regex.compile(r"\b(?:prior|previous|comparison|baseline)(?:\s+(?:study|exam|ct)(?:'s)?)?\s+$",
                            regex.IGNORECASE)
#: A statement of the prior exam's series by its measurements: "Prior measurements are taken from series 4 of the
#: comparison study".
_PRIOR_MEASURED_ON = regex.compile(
    r"\b(?:prior|previous|comparison|baseline)\s+(?:measurements?|sizes?|diameters?)\s+(?:are|were)\s+"
    r"(?:(?:taken|quoted|given|made|obtained)\s+)?(?:from|on|in)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?series\s*"
    r"(?P<ser>\d{1,5})\b", regex.IGNORECASE)
_MEASURE_WORD = re.compile(r"easure|size|iameter", re.IGNORECASE)


#: A series marked as the prior exam's right after its number: "series 2 (prior)".
_PRIOR_MARK = regex.compile(r"\s*\(\s*(?:prior|previous|comparison|vu|voruntersuchung|vorbefund)\s*\)", regex.IGNORECASE)


def series_statements(text: str) -> list[SeriesStatement]:
    """Every statement naming the series of the report's images, in text order."""
    if "erie" not in text and "ERIE" not in text and _SE_DOT.search(text) is None and _SE_NAMED.search(text) is None:
        return []
    found = []
    for _, m in _STATEMENT_SCAN.scan(text):
        got = m.groupdict()  # (a branch's groups: "vu" and "head" are some branches' only)
        if (got.get("vu") or _PRIOR_MARK.match(text, m.end())
                or _PRIOR_LEAD.search(text, max(0, m.start() - 25), m.start())):
            # "Bildangaben der VU beziehen sich ebenfalls auf Serie 4", "... series 2 (prior)", "Prior images are on
            # series 5": the prior exam's images only
            found.append(SeriesStatement(m.start(), m.end(), int(m.group("ser")), "report", priors=True, current=False))
            continue
        found.append(SeriesStatement(m.start(), m.end(), int(m.group("ser")),
                                     "section" if got.get("head") is not None else "report",
                                     priors=_PRIORS_TOO.match(text, m.end()) is not None
                                     or _EACH_EXAM_RX.search(text, m.start(), m.end()) is not None))
        other = (_PRIOR_SERIES.match(text, m.end()) or _PRIOR_SERIES_LABELLED.match(text, m.end())
                 or _PRIOR_SERIES_THOSE.match(text, m.end()))
        if other is not None:  # "... auf Serie 5 der aktuellen Untersuchung bzw. auf Serie 4 der Voruntersuchung"
            found.append(SeriesStatement(m.start(), other.end(), int(other.group("ser")), "report", priors=True,
                                         current=False))
    found += [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "report")
              for rx in (_THIS_SERIES, _SERIES_UNLESS) for m in rx.finditer(text)]
    if _MEASURE_WORD.search(text) is not None:  # (its words, in any case: the scan only where they are)
        found += [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "report", priors=True, current=False)
                  for m in _PRIOR_MEASURED_ON.finditer(text)]
    found += [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "correction")
              for m in _SERIES_CORRECTED.finditer(text)]
    found += [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "section") for m in _SERIES_FOLLOWING.finditer(text)]
    return sorted(found + _heading_lines(text) + _line_labels(text) + _sole_definition(text))
