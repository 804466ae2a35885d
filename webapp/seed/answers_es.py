"""The demo city's knowledge answers in Spanish: title, summary, keywords and body.

Kept beside ``answers.py`` (same slugs) and applied by :func:`seed_answer_translations`;
words follow ``docs/glossary-es.md`` and address the reader as *usted*. A real city
enters these in the admin (Translations).
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.content_i18n import set_translation
from webapp.models import Answer
from webapp.plumbing.extensions import db

LOCALE = "es"

# slug → (title, summary, keywords, Markdown body)
ANSWERS_ES: dict[str, tuple[str, str, str, str]] = {
    "how-potholes-are-repaired": (
        "Cómo se reparan los baches",
        "La mayoría de los baches se tapan dentro de los cinco días hábiles siguientes al reporte.",
        "bache, hueco, calle, asfalto, parche",
        "Las cuadrillas tapan los baches en el orden en que se reportan, pero **los baches "
        "hondos en calles muy transitadas van primero**.\n\n- Por lo general se pone un parche "
        "provisional en frío dentro de 5 días hábiles.\n- La reparación definitiva con asfalto "
        "en caliente se hace cuando el clima está cálido y seco.\n- Los baches en carreteras "
        "estatales (por ejemplo, la US-27 o la I-24) los repara TDOT, no la ciudad: llame a "
        "TDOT al 1-800-342-3258.\n\nSi se dañó una llanta o un rin de su vehículo, consulte "
        "*Reclamos por daños a un vehículo*.",
    ),
    "vehicle-damage-claims": (
        "Reclamos por daños a un vehículo",
        "Cómo pedirle a la ciudad que pague una llanta o un rin dañados por un bache.",
        "reclamo, llanta, rin, reembolso, daño, bache",
        "Presente un reclamo ante la Oficina del Procurador de la Ciudad dentro de los "
        "**60 días** siguientes al daño.\n\n1. Guarde el recibo de la reparación y tome fotos "
        "del daño y del lugar.\n2. Llene el formulario de reclamo en la Alcaldía, 101 E 11th "
        "St, o envíelo por correo postal.\n3. La ciudad solo puede pagar si el bache ya se "
        "había reportado y no se reparó en un tiempo razonable; por eso un reporte al 311 "
        "también ayuda al próximo conductor.",
    ),
    "sidewalk-repair-who-pays": (
        "¿Quién repara una acera rota?",
        "La ciudad repara las aceras en la vía pública; primero las que pueden hacer tropezar.",
        "acera, tropiezo, grieta, bordillo",
        "La ciudad inspecciona cada acera reportada dentro de 10 días hábiles.\n\n- Los "
        "bordes levantados de más de 1 pulgada se rebajan o se marcan esa misma semana.\n- El "
        "cambio de losas completas se programa por prioridad cerca de escuelas, paradas de "
        "autobús y hospitales.\n- Los daños causados por una obra los repara el contratista "
        "que tiene el permiso.",
    ),
    "streetlight-out": (
        "Una luminaria está apagada o parpadea",
        "Repórtela con el número del poste; la mayoría se reparan en una semana.",
        "luminaria, luz, lámpara, oscuro, número de poste",
        "Busque el **número del poste** en una placa pequeña a la altura de los ojos: así la "
        "cuadrilla encuentra la luminaria exacta.\n\n- Las luminarias de la ciudad se reparan "
        "dentro de 7 días.\n- Las luces en postes de madera de servicios públicos a lo largo "
        "de caminos privados son de EPB: llame al 423-648-1372.\n- Un poste inclinado o con "
        "cables expuestos es una emergencia: llame al 911.",
    ),
    "traffic-signal-dark": (
        "Un semáforo está apagado o trabado",
        "Trate un semáforo apagado como un alto en todas las direcciones y repórtelo de inmediato.",
        "semáforo, señal, intersección, luz intermitente",
        "Un semáforo apagado o intermitente se trata como un **alto en todas las "
        "direcciones**.\n\n- Los técnicos de semáforos están de turno día y noche; la mayoría "
        "de los semáforos vuelven a funcionar en menos de 4 horas.\n- Si un poste de semáforo "
        "está caído o hay cables en la calle, llame primero al 911.",
    ),
    "street-sign-missing": (
        "Falta una señal de alto o de calle, o está doblada",
        "Las señales de alto y de ceda el paso que faltan se reponen el mismo día.",
        "señal, señal de alto, nombre de calle, letrero",
        "Las señales de alto, ceda el paso y prohibido el paso se **reponen el mismo día**, "
        "de día o de noche. Las señales con el nombre de la calle y las demás señales se "
        "reparan dentro de 10 días hábiles. Díganos en qué esquina estaba y hacia qué "
        "dirección miraba la señal.",
    ),
    "graffiti-removal": (
        "Cómo se quita el grafiti",
        "La ciudad quita gratis el grafiti de la propiedad pública.",
        "grafiti, pintura en aerosol, vandalismo, pared, pinta",
        "- El grafiti en **propiedad pública** (señales, puentes, edificios de parques) se "
        "quita dentro de 10 días hábiles; el grafiti ofensivo, en 1 día.\n- En **propiedad "
        "privada**, la ciudad puede quitarlo gratis cuando el dueño firma un formulario de "
        "autorización.\n- Si ve a alguien pintando, llame a la línea de la policía para casos "
        "que no son de emergencia: 423-698-2525.",
    ),
    "illegal-dumping": (
        "Basura tirada ilegalmente",
        "Reporte basura, llantas o muebles tirados; las multas llegan hasta $3,000.",
        "basura tirada, escombros, llantas, colchón, tiradero",
        "Lo que se tira en terrenos públicos se recoge dentro de 5 días hábiles. En terrenos "
        "privados, el dueño tiene 10 días para limpiarlo.\n\nSi vio cuando tiraban la basura, "
        "díganos el vehículo, la placa y la hora: tirar basura ilegalmente tiene multas de "
        "hasta $3,000.",
    ),
    "overgrown-lots": (
        "Pasto y hierba alta en un terreno baldío",
        "El pasto de más de 12 pulgadas en un terreno es una infracción del código.",
        "hierba, maleza, pasto, terreno baldío, cortar, código",
        "El pasto o la hierba **de más de 12 pulgadas de alto** son una infracción del "
        "código. Un inspector lo visita dentro de 10 días hábiles y le da al dueño 10 días "
        "para cortarlo. Si no lo hace, la ciudad lo corta y le cobra al dueño.",
    ),
    "abandoned-vehicles": (
        "Vehículos abandonados",
        "Un vehículo estacionado en la calle por más de 72 horas puede ser remolcado.",
        "carro, auto, camioneta, estacionado, grúa, chatarra",
        "La policía marca todo vehículo que quede en una calle pública por **más de 72 "
        "horas** y lo remolca si no se mueve en 3 días. Los vehículos en propiedad privada "
        "los atiende la oficina de cumplimiento del código cuando no funcionan o no tienen "
        "placas vigentes. Díganos la marca, el color y la placa.",
    ),
    "trash-collection-day": (
        "¿Qué día recogen mi basura?",
        "La basura se recoge una vez por semana; el reciclaje, cada dos semanas.",
        "basura, bote, contenedor, horario, día de recolección",
        "La basura se recoge **una vez por semana** el día de su ruta, y el reciclaje **cada "
        "dos semanas**.\n\n- Saque su contenedor a la orilla de la calle antes de las **6 "
        "a. m.**, con el asa hacia la calle.\n- Deje 3 pies entre contenedores y entre estos y "
        "los carros o buzones.\n- Los días festivos retrasan la recolección un día durante el "
        "resto de esa semana.",
    ),
    "missed-trash-pickup": (
        "No recogieron mi basura",
        "Reporte la recolección que no se hizo a más tardar al final del siguiente día hábil.",
        "no recogieron, basura, reciclaje, recolección",
        "Si su contenedor estaba afuera a las 6 a. m. y no lo vaciaron, repórtelo **a más "
        "tardar al final del siguiente día hábil**; la cuadrilla regresa dentro de 1 día "
        "hábil. No se vuelven a recoger los contenedores que se sacaron tarde, que estaban "
        "demasiado llenos (con la tapa abierta) o que un carro tapaba.",
    ),
    "holiday-trash-schedule": (
        "Recolección de basura en días festivos",
        "La recolección se corre un día después de Año Nuevo, el 4 de julio, el Día de Acción "
        "de Gracias y Navidad.",
        "día festivo, navidad, acción de gracias, horario",
        "En **Año Nuevo, el Día de la Independencia, el Día de Acción de Gracias y Navidad** "
        "la recolección se corre un día durante el resto de la semana (las rutas del viernes "
        "se recogen el sábado). Los demás días festivos la recolección es normal.",
    ),
    "new-or-broken-trash-cart": (
        "Un contenedor de basura nuevo o de reemplazo",
        "Los contenedores dañados o robados se reemplazan gratis.",
        "contenedor, bote, roto, robado, tapa, ruedas",
        "Los contenedores de la ciudad rotos, rajados o robados se **reemplazan gratis** "
        "dentro de 10 días hábiles. Las casas nuevas reciben su primer contenedor gratis; un "
        "segundo contenedor de basura cuesta $75.",
    ),
    "bulky-item-pickup": (
        "Recolección de objetos grandes",
        "Sofás, colchones y electrodomésticos se recogen gratis una vez al mes.",
        "sofá, sillón, muebles, colchón, refrigerador, electrodoméstico",
        "Pida una **recolección gratuita de objetos grandes** llamando al 311: hasta **5 "
        "objetos grandes** al mes.\n\n- Ponga los objetos a la orilla de la calle la noche "
        "anterior, no sobre la acera.\n- A los refrigeradores y congeladores se les deben "
        "quitar las puertas.\n- No se recogen: llantas, pintura, piezas de carro ni escombros "
        "de construcción (consulte *Pintura, baterías y otros residuos peligrosos*).",
    ),
    "household-hazardous-waste": (
        "Pintura, baterías y otros residuos peligrosos",
        "Llévelos al centro de residuos peligrosos del hogar, gratis para los residentes.",
        "pintura, aceite, batería, químicos, electrónicos, llantas",
        "Nunca ponga pintura, aceite de motor, baterías ni químicos en su contenedor. "
        "Llévelos al **Centro de Residuos Peligrosos del Hogar, 4063 N Access Rd**, abierto de "
        "miércoles a sábado, de 8 a. m. a 4 p. m. Es gratis para los residentes que muestren "
        "un comprobante de domicilio. Allí también se aceptan hasta 4 llantas al año.",
    ),
    "yard-waste-brush": (
        "Recolección de desechos de jardín y ramas",
        "Las hojas en bolsas y las ramas de menos de 6 pies se recogen el día de la basura.",
        "hojas, ramas, jardín, poda, desechos",
        "Ponga las **hojas en bolsas** y las **ramas amarradas en atados** (piezas de menos de "
        "6 pies de largo y 6 pulgadas de grueso) a la orilla de la calle el día de su "
        "basura. Las hojas sueltas se aspiran en noviembre y diciembre, por vecindario.",
    ),
    "dead-animal-pickup": (
        "Un animal muerto en la calle",
        "Los animales muertos en calles públicas se retiran dentro de 1 día hábil.",
        "venado, perro, gato, animal atropellado, cadáver",
        "Los animales en **calles y aceras** se retiran dentro de 1 día hábil. Si el animal "
        "está en su propiedad, póngalo en una bolsa y en su contenedor de basura, o llame al "
        "311 para que lo recojan por $25. Para un **animal vivo y herido**, llame a servicios "
        "de animales al 423-305-6500.",
    ),
    "park-maintenance": (
        "Juegos infantiles rotos o daños en un parque",
        "Los juegos infantiles peligrosos se cierran con cinta el mismo día.",
        "juegos infantiles, columpio, banca, baños, parque",
        "Los juegos infantiles peligrosos se **cierran el mismo día** y se reparan cuando hay "
        "piezas. La basura, las bancas rotas y los problemas en los baños se atienden dentro "
        "de 5 días hábiles. Díganos el nombre del parque y en qué parte del parque está el "
        "problema.",
    ),
    "park-shelter-reservations": (
        "Cómo reservar un pabellón en un parque",
        "Los pabellones se pueden reservar en línea con hasta un año de anticipación.",
        "pabellón, pícnic, techado, reservar, fiesta",
        "Los pabellones se pueden reservar **con hasta 12 meses de anticipación** a través de "
        "Parques y Actividades al Aire Libre, desde $40 por medio día. Los pabellones sin "
        "reserva son para quien llegue primero.",
    ),
    "fallen-tree": (
        "Se cayó un árbol o una rama grande",
        "Los árboles que bloquean una calle se retiran en pocas horas; repórtelo de inmediato.",
        "árbol, rama, tormenta, calle bloqueada",
        "Un árbol o una rama que **bloquea una calle** se retira el mismo día, de día o de "
        "noche. Los árboles en propiedad privada son responsabilidad del dueño, aunque caigan "
        "en la calle; la ciudad solo despeja la calle. **¿Hay cables caídos? Aléjese y llame "
        "a EPB al 423-648-1372.**",
    ),
    "tree-trimming-request": (
        "Poda de un árbol de la ciudad",
        "La ciudad poda los árboles que están entre la acera y la calle.",
        "podar, poda, árbol, ramas, señal tapada",
        "La ciudad poda los árboles en la **vía pública** (por lo general entre la acera y el "
        "bordillo) cuando tapan señales, luminarias o aceras, o cuelgan a menos de 14 pies "
        "sobre la calle. Pida una inspección; el encargado de arbolado decide dentro de 20 "
        "días hábiles.",
    ),
    "building-permits": (
        "¿Necesito un permiso de construcción?",
        "Casi todo trabajo que no sea una reparación necesita permiso: terrazas, cercas de más "
        "de 6 pies, techos.",
        "permiso, construcción, terraza, cerca, techo, remodelación",
        "Necesita un permiso para **estructuras nuevas, terrazas, cercas de más de 6 pies, "
        "techos y cualquier trabajo eléctrico, de plomería o mecánico**. Pintar, cambiar el "
        "piso y las reparaciones con materiales iguales no necesitan permiso. Haga su "
        "solicitud en el Development Resource Center, 1250 Market St, o en línea; la mayoría "
        "de los permisos residenciales se otorgan dentro de 5 días hábiles.",
    ),
    "yard-sale-permit": (
        "Reglas para las ventas de garaje",
        "No se necesita permiso para hasta 3 ventas de garaje al año.",
        "venta de garaje, venta de patio, letreros",
        "Puede hacer **3 ventas de garaje al año**, de hasta 3 días cada una, sin permiso. No "
        "se pueden poner letreros en postes de servicios públicos ni en señales de tránsito "
        "(se retiran como basura).",
    ),
    "noise-complaints": (
        "Ruido fuerte o un perro que ladra",
        "Para un ruido que está pasando ahora, llame a la línea de la policía para casos que no "
        "son de emergencia.",
        "ruido, música, fiesta, ladridos, perro",
        "Para un ruido que **está pasando ahora**, llame a la línea de la policía para casos "
        "que no son de emergencia: 423-698-2525. Las horas de silencio son de 10 p. m. a "
        "7 a. m. Para un perro que ladra por mucho tiempo, servicios de animales puede enviar "
        "una carta de advertencia: llame al 423-305-6500.",
    ),
    "water-sewer-problems": (
        "Fugas de agua y drenajes tapados",
        "El agua y el drenaje los manejan otras empresas; aquí está a quién llamar.",
        "agua, fuga, drenaje, alcantarilla, tubería rota, hidrante",
        "- **Tuberías principales rotas y fugas de agua**: Tennessee American Water, "
        "1-866-736-6420 (24 h).\n- **Drenajes que se regresan y alcantarillas desbordadas**: "
        "la línea de aguas residuales de la ciudad, 423-643-6311.\n- **Calles inundadas o un "
        "desagüe pluvial tapado**: repórtelo al 311.",
    ),
    "who-to-call": (
        "A quién llamar para cada cosa",
        "El 311 para los servicios de la ciudad, el 911 para emergencias y los números para "
        "todo lo demás.",
        "números de teléfono, emergencia, policía, servicios públicos, 911",
        "- **Emergencias** (incendio, un delito en curso, cables caídos, un poste de semáforo "
        "en la calle): 911\n- **Servicios de la ciudad** (calles, basura, parques, código): 311 "
        "o 423-643-6311\n- **Policía, casos que no son de emergencia**: 423-698-2525\n"
        "- **Electricidad**: EPB, 423-648-1372\n- **Agua**: Tennessee American Water, "
        "1-866-736-6420\n- **Carreteras estatales**: TDOT, 1-800-342-3258",
    ),
    "how-311-works": (
        "¿Qué pasa después de reportar?",
        "Recibe un número y luego novedades en cada paso hasta que se cierra la solicitud.",
        "estado, seguimiento, número, seguir, notificación",
        "1. Recibe un número de solicitud (como 311-000123) y una página para seguirla.\n2. El "
        "departamento correspondiente la recibe, por lo general dentro de 2 días hábiles.\n"
        "3. Le avisamos cuando empieza el trabajo y cuando se cierra, con una nota de la "
        "cuadrilla.\n\nSi en realidad no se arregló, puede reabrirla dentro de 30 días.",
    ),
}


# The answers' topics (the Help page's topic links).
TOPICS_ES: dict[str, str] = {
    "bulky pickup": "recolección de objetos grandes",
    "neighborhood": "vecindario",
    "parks": "parques",
    "permits": "permisos",
    "streets": "calles",
    "trash days": "días de basura",
    "who to call": "a quién llamar",
}


def _topics_in_spanish(answer: Answer) -> dict[str, str]:
    return {topic: TOPICS_ES[topic] for topic in answer.topics if topic in TOPICS_ES}


def seed_answer_translations() -> int:
    """Give every demo answer its Spanish (only where it has none yet) and its topics'
    Spanish names (where they are missing); returns how many answers changed."""
    changed = 0
    for answer in db.session.scalars(select(Answer)):
        spanish = ANSWERS_ES.get(answer.slug)
        mine = (answer.translations or {}).get(LOCALE) or {}
        if mine and not mine.get("topics") and _topics_in_spanish(answer):
            set_translation(answer, LOCALE, {"topics": _topics_in_spanish(answer)})
            changed += 1
        if spanish is None or mine:
            continue
        title, summary, keywords, body = spanish
        set_translation(
            answer,
            LOCALE,
            {"title": title, "summary": summary, "keywords": keywords, "body": body,
             "topics": _topics_in_spanish(answer)},
        )
        changed += 1
    db.session.flush()
    return changed
