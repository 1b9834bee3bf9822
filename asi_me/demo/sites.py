"""Reference material for the demo dataset: real industrial towns and fictitious names.

Sites are real places where the aluminium industry operates (coordinates of the
town, jittered by the generator). Company names are invented from neutral words
so that no demo record, and no invented finding, is attached to a real company.
"""

from __future__ import annotations

# kind letters: B bauxite mining, A alumina refining, S smelting + casthouse,
# R re-melting / recycling, F semi-fabrication, M material conversion / manufacturing.
_SITES = """
AU|Weipa|-12.63|141.88|B
AU|Gove|-12.18|136.78|BA
AU|Huntly|-32.60|116.10|B
AU|Gladstone|-23.84|151.25|A
AU|Pinjarra|-32.63|115.87|A
AU|Worsley|-33.25|116.00|BA
AU|Tomago|-32.82|151.72|S
AU|Boyne Island|-23.94|151.35|S
AU|Portland|-38.34|141.60|S
AU|Bell Bay|-41.13|146.87|S
AU|Yennora|-33.86|150.97|FM
GN|Boke|10.94|-14.30|B
GN|Kamsar|10.65|-14.61|B
GN|Sangaredi|11.10|-13.80|B
GN|Fria|10.37|-13.58|A
BR|Paragominas|-2.99|-47.35|B
BR|Juruti|-2.15|-56.09|B
BR|Porto Trombetas|-1.46|-56.38|B
BR|Barcarena|-1.51|-48.62|AS
BR|Sao Luis|-2.53|-44.30|AS
BR|Aluminio|-23.53|-47.25|SFR
BR|Pocos de Caldas|-21.79|-46.56|SF
BR|Pindamonhangaba|-22.92|-45.46|FR
BR|Itapissuma|-7.77|-34.90|FM
BR|Sao Paulo|-23.55|-46.63|MR
JM|Mandeville|18.04|-77.50|BA
JM|Ewarton|18.18|-77.09|A
IN|Damanjodi|18.75|82.92|BA
IN|Lanjigarh|19.70|83.40|A
IN|Jharsuguda|21.85|84.00|S
IN|Angul|20.84|85.10|S
IN|Korba|22.35|82.68|S
IN|Renukoot|24.20|83.03|SF
IN|Taloja|19.06|73.12|F
IN|Pune|18.52|73.86|M
IE|Aughinish|52.63|-9.05|A
ES|San Ciprian|43.69|-7.44|AS
ES|Aviles|43.55|-5.92|SF
ES|Alicante|38.35|-0.48|F
ES|Amorebieta|43.22|-2.73|FR
ES|Barcelona|41.39|2.17|M
NO|Sunndalsora|62.68|8.56|S
NO|Ardal|61.24|7.70|S
NO|Karmoy|59.30|5.30|S
NO|Husnes|59.86|5.76|S
NO|Mosjoen|65.84|13.19|S
NO|Hoyanger|61.22|6.07|S
NO|Holmestrand|59.49|10.31|F
NO|Raufoss|60.72|10.60|M
IS|Reydarfjordur|65.03|-14.22|S
IS|Straumsvik|64.04|-22.04|S
IS|Grundartangi|64.36|-21.78|S
CA|Alma|48.55|-71.65|S
CA|Baie-Comeau|49.22|-68.15|S
CA|Sept-Iles|50.21|-66.38|S
CA|Becancour|46.37|-72.43|S
CA|Deschambault|46.67|-71.93|S
CA|Jonquiere|48.42|-71.18|AS
CA|Kitimat|54.05|-128.65|S
CA|Kingston|44.23|-76.48|F
CA|Toronto|43.65|-79.38|MR
AE|Jebel Ali|24.99|55.06|SF
AE|Al Taweelah|24.77|54.70|AS
BH|Askar|26.06|50.62|SF
QA|Mesaieed|24.99|51.55|S
OM|Sohar|24.50|56.60|S
SA|Ras Al-Khair|27.55|49.20|AS
SA|Al Baitha|27.90|43.90|B
CN|Wenshan|23.37|104.25|AS
CN|Qujing|25.49|103.80|S
CN|Dali|25.60|100.27|S
CN|Changji|44.01|87.30|S
CN|Shihezi|44.30|86.04|S
CN|Baotou|40.65|109.84|S
CN|Huolinguole|45.53|119.66|S
CN|Zouping|36.86|117.74|ASF
CN|Binzhou|37.38|117.97|A
CN|Pingguo|23.30|107.60|BA
CN|Luoyang|34.62|112.45|F
CN|Chongqing|29.56|106.55|F
CN|Shanghai|31.23|121.47|MR
CN|Kunshan|31.38|120.98|M
CN|Foshan|23.02|113.12|FM
DE|Hamburg|53.50|9.95|SF
DE|Neuss|51.20|6.69|SF
DE|Essen|51.45|7.01|S
DE|Voerde|51.60|6.68|S
DE|Stade|53.60|9.47|A
DE|Grevenbroich|51.09|6.59|FR
DE|Singen|47.76|8.84|F
DE|Nachterstedt|51.80|11.33|FR
DE|Lunen|51.61|7.52|R
DE|Goettingen|51.54|9.93|M
DE|Stuttgart|48.78|9.18|M
DE|Munich|48.14|11.58|M
MY|Samalaju|3.18|113.07|S
MY|Mukah|2.90|112.10|S
MY|Kuantan|3.80|103.30|B
MZ|Boane|-25.92|32.38|S
ZA|Richards Bay|-28.78|32.04|S
ZA|Pietermaritzburg|-29.60|30.38|F
NZ|Tiwai Point|-46.59|168.38|S
NZ|Auckland|-36.85|174.76|M
FR|Dunkerque|51.03|2.30|S
FR|Saint-Jean-de-Maurienne|45.27|6.35|S
FR|Issoire|45.54|3.25|F
FR|Neuf-Brisach|48.02|7.53|FR
FR|Voreppe|45.29|5.64|M
FR|Lyon|45.76|4.84|M
SE|Sundsvall|62.39|17.30|S
SE|Finspang|58.70|15.77|F
SE|Vetlanda|57.43|15.08|FR
NL|Delfzijl|53.33|6.92|S
NL|Drunen|51.69|5.13|F
SK|Ziar nad Hronom|48.59|18.86|SF
SI|Kidricevo|46.40|15.79|SF
RO|Slatina|44.43|24.36|SF
GR|Agios Nikolaos|38.38|22.63|AS
GR|Oinofyta|38.31|23.64|F
AR|Puerto Madryn|-42.77|-65.03|S
US|Massena|44.93|-74.89|S
US|Hawesville|37.90|-86.75|S
US|Mount Holly|33.00|-80.00|S
US|Davenport|41.52|-90.58|F
US|Oswego|43.46|-76.51|F
US|Russellville|36.85|-86.89|FR
US|Lafayette|40.42|-86.88|F
US|Muscle Shoals|34.74|-87.67|FR
US|Lewisport|37.93|-86.90|F
US|Spokane|47.66|-117.43|F
US|Atlanta|33.75|-84.39|M
US|Chicago|41.88|-87.63|MR
US|Detroit|42.33|-83.05|M
AT|Ranshofen|48.23|13.02|FR
AT|Amstetten|48.12|14.87|F
AT|Lend|47.30|13.05|S
AT|Vienna|48.21|16.37|M
IT|Brescia|45.54|10.21|FR
IT|Bolzano|46.50|11.35|F
IT|Porto Marghera|45.46|12.25|F
IT|Pieve Emanuele|45.35|9.20|F
IT|Feltre|46.02|11.90|F
IT|Milan|45.46|9.19|M
IT|Turin|45.07|7.69|M
GB|Warrington|53.39|-2.59|FR
GB|Birmingham|52.48|-1.90|M
GB|Fort William|56.82|-5.10|S
GB|Rogerstone|51.59|-3.05|R
CH|Sierre|46.29|7.53|F
CH|Chippis|46.28|7.54|F
CH|Rorschach|47.48|9.49|M
CH|Kreuzlingen|47.65|9.18|M
JP|Nagoya|35.18|136.90|F
JP|Fukaya|36.19|139.28|F
JP|Shizuoka|34.98|138.38|M
JP|Osaka|34.69|135.50|MR
KR|Yeongju|36.80|128.62|F
KR|Ulsan|35.54|129.31|FM
KR|Gyeongju|35.86|129.22|M
TR|Dilovasi|40.78|29.53|F
TR|Izmir|38.42|27.14|FM
TR|Seydisehir|37.42|31.85|AS
MX|Monterrey|25.69|-100.32|FM
MX|Queretaro|20.59|-100.39|M
MX|Saltillo|25.42|-101.00|M
CZ|Decin|50.78|14.21|F
PL|Konin|52.22|18.25|F
PL|Kety|49.88|19.22|F
BE|Duffel|51.10|4.50|F
BE|Lanaken|50.89|5.65|F
HU|Szekesfehervar|47.19|18.41|F
DK|Tonder|54.93|8.86|F
FI|Harjavalta|61.31|22.14|R
PT|Leiria|39.74|-8.81|M
TH|Rayong|12.68|101.27|F
VN|Hai Phong|20.84|106.69|M
ID|Kuala Tanjung|3.36|99.45|S
ID|Tayan|-0.03|110.10|BA
TW|Kaohsiung|22.63|120.30|F
EG|Nag Hammadi|26.05|32.24|S
GH|Awaso|6.23|-2.27|B
GH|Tema|5.67|-0.02|S
CM|Edea|3.80|10.13|S
MA|Casablanca|33.57|-7.59|M
TN|Sfax|34.74|10.76|F
CL|Santiago|-33.45|-70.67|M
CO|Medellin|6.24|-75.58|F
PE|Lima|-12.05|-77.04|F
SR|Paranam|5.60|-55.10|B
SG|Singapore|1.35|103.82|M
AR|Buenos Aires|-34.60|-58.38|F
IL|Haifa|32.79|34.99|M
LT|Kaunas|54.90|23.90|M
EE|Tallinn|59.44|24.75|M
HR|Sibenik|43.73|15.89|F
RS|Sevojno|43.84|19.88|F
BA|Mostar|43.34|17.81|S
MK|Skopje|41.99|21.43|F
BG|Shumen|43.27|26.92|F
UA|Kyiv|50.45|30.52|M
KE|Mombasa|-4.04|39.67|M
NG|Ikot Abasi|4.57|7.56|S
PH|Manila|14.60|120.98|M
LK|Colombo|6.93|79.85|M
PK|Karachi|24.86|67.01|M
"""


def sites() -> list[tuple[str, str, float, float, str]]:
    """(country, town, latitude, longitude, kinds) for every demo site."""
    rows = []
    for line in _SITES.strip().splitlines():
        country, town, lat, lon, kinds = line.split("|")
        rows.append((country, town, float(lat), float(lon), kinds))
    return rows


# Neutral words for fictitious company names. Combined as "<first> <second>".
NAME_FIRST = (
    "Northbay", "Kestrel", "Larkspur", "Ridgefield", "Amberlight", "Coldwater", "Silverwick", "Brightwhistle",
    "Stonewhistle", "Harrowmere", "Westvale", "Eastmoor", "Redwyn", "Highmoor", "Fernhollow", "Glenmarsh",
    "Ashcombe", "Blackmere", "Corriebank", "Dunmere", "Eldermoor", "Fairhaven", "Greyholm", "Hollowell",
    "Ironmere", "Junewick", "Kingsmoor", "Lakemere", "Marlhaven", "Netherby", "Oakmere", "Pinevale", "Quarrybank",
    "Rosewater", "Saltmarsh", "Thornbury", "Upland", "Valecrest", "Willowmere", "Yarrowdale", "Zephyrine",
    "Aldervane", "Birchmoor", "Cloudberry", "Driftmoor", "Emberly", "Falconmere", "Gannetbay", "Heronmere",
    "Ibisfield", "Jaywick", "Kittiwake", "Lapwing", "Merlinvale", "Nightjar", "Ospreyhill", "Plover", "Quailstone",
    "Ravenholt", "Sandwren", "Ternmouth", "Wrenfield", "Albermoor", "Blaeberry", "Copperwick", "Dawnridge",
    "Eastwind", "Foxwhistle", "Goldmere", "Hawkmere", "Islemoor", "Jadewater", "Kelpfield", "Lindenvale",
    "Moorcroft", "Northerly", "Orchardly", "Pebblebrook", "Quillon", "Rivermeet",
)
NAME_SECOND_PRODUCER = (
    "Aluminium", "Alumina", "Light Metals", "Metals", "Smelting", "Minerals", "Resources", "Extrusions", "Rolling",
    "Foils", "Castings", "Alloys", "Metalworks", "Profiles", "Sheet & Coil", "Recycling", "Remelt",
)
NAME_SECOND_USER = (
    "Packaging", "Automotive", "Cans", "Beverage Systems", "Building Systems", "Facades", "Cookware", "Electronics",
    "Mobility", "Appliances", "Windows", "Closures", "Cable Works", "Coffee Capsules", "Bicycle Works",
)
NAME_SECOND_DOWNSTREAM = (
    "Trading", "Design", "Brands", "Consulting", "Logistics", "Retail Group",
)
CIVIL_SOCIETY = (
    "Rights Network", "Watershed Trust", "Forest Peoples Forum", "Community Voice", "Workers' Centre",
    "Land & Livelihoods Trust", "Environmental Justice Forum", "Biodiversity Trust",
)
ASSOCIATIONS = (
    "Light Metals Association", "Packaging Council", "Recyclers Association", "Extruders Federation",
    "Building Envelope Council", "Can Makers Association",
)
GENERAL_SUPPORTERS = (
    "Advisory", "Analytics", "Sustainability Partners", "Research Institute", "Standards Services",
)

AUDIT_FIRM_NAMES = (
    "Veltrane Assurance", "Orvika Verification", "Calthorn Audit Services", "Quennell Certification",
    "Tarrowby Assurance", "Wexmoor Verification", "Lindqvar Audit Group", "Sorrell-Pike Assurance",
    "Brackwater Certification", "Pellham Audit", "Ormsby Vale Verification", "Hollin Crane Assurance",
    "Fenwyck Audit Partners", "Varrow Certification", "Ashlund Assurance", "Kerrigan Moor Verification",
)
