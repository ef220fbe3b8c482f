"""The column names and status words of common LMS exports (see docs/lms-import.md).

Each preset lists, per Learnbot field, the header names its vendor's export uses (several where
the vendor's report builder lets people pick or rename a column); the first one present in a
file wins. A column named in ``lms_import`` overrides the preset's candidates for that field.
Status words are compared case- and accent-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = (
    "email",
    "course",
    "course_title",
    "due",
    "completed",
    "status",
    "name",
    "first_name",
    "last_name",
    "office",
)

COMPLETED = frozenset(
    {
        "completed", "complete", "course completed", "done", "passed", "yes", "y", "true",
        "termine", "terminee", "acheve", "achevee", "valide", "reussi", "oui",
        "completado", "finalizado", "terminado", "aprobado", "si",
    }
)  # fmt: skip
NOT_COMPLETED = frozenset(
    {
        "not complete", "not completed", "incomplete", "in progress", "in_progress", "not started",
        "not_started", "not attempted", "registered", "subscribed", "enrolled", "pending",
        "past due", "overdue", "failed", "no", "n", "false", "withdrawn", "waiting",
        "en cours", "non commence", "non termine", "pas termine", "non acheve", "inscrit", "non",
        "en progreso", "no iniciado", "no completado", "inscrito", "pendiente",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    columns: dict[str, tuple[str, ...]]
    completed: frozenset[str] = COMPLETED
    not_completed: frozenset[str] = NOT_COMPLETED
    default_kind: str = "transcript"


GENERIC = Preset(
    "generic",
    {
        "email": ("email", "e-mail", "email address", "mail", "work email"),
        "course": ("course", "course id", "course code", "code"),
        "course_title": ("course title", "course name", "title"),
        "due": ("due", "due date", "deadline", "due on"),
        "completed": ("completed", "completion date", "completed on", "date completed"),
        "status": ("status", "completion status", "statut", "estado"),
        "name": ("name", "full name", "nom", "nombre"),
        "first_name": ("first name",),
        "last_name": ("last name",),
        "office": ("office", "location", "ou"),
    },
)

PRESETS: dict[str, Preset] = {
    "generic": GENERIC,
    # Moodle: a Report builder report on the "Course participants" source (or the course
    # completion report's export). Moodle writes dates in the user's language
    # ("mardi 8 décembre 2026, 15:42") and "Not complete" rows have no completion time.
    "moodle": Preset(
        "moodle",
        {
            "email": ("Email address", "Email", "Adresse de courriel", "Dirección de correo"),
            "course": (
                "Course short name",
                "Short name",
                "Nom abrégé du cours",
                "Nombre corto del curso",
            ),
            "course_title": (
                "Course full name",
                "Course full name with link",
                "Course",
                "Nom complet du cours",
            ),
            "due": ("Course completion: Due date", "Due date"),
            "completed": (
                "Time completed",
                "Course completion: Time completed",
                "Course complete",
                "Date d'achèvement",
                "Heure d'achèvement",
                "Curso finalizado",
            ),
            "status": ("Status", "Completion status", "Course completion: Completed", "Statut", "Estado"),
            "name": ("Full name", "User full name", "Full name with link", "Nom complet", "Nombre"),
            "first_name": ("First name", "Prénom"),
            "last_name": ("Last name", "Surname", "Nom de famille"),
            "office": ("Department", "Institution", "City/town", "Département", "Departamento"),
        },
        default_kind="completions",
    ),
    # Cornerstone OnDemand: a custom Transcript report (Reports > Custom Reports > Transcript).
    "cornerstone": Preset(
        "cornerstone",
        {
            "email": ("User Email", "Email"),
            "course": ("Training ID", "Training Object ID", "LO ID"),
            "course_title": ("Training Title", "Title"),
            "due": ("Transcript Due Date", "Training Due Date", "Due Date"),
            "completed": ("Transcript Completed Date", "Completion Date", "Completed Date"),
            "status": ("Transcript Status", "Training Status", "Status"),
            "name": ("User Full Name", "User Name"),
            "first_name": ("User First Name",),
            "last_name": ("User Last Name",),
            "office": ("User OU", "User Location", "User Division", "Location"),
        },
    ),
    # Docebo: a "Users - Courses" report.
    "docebo": Preset(
        "docebo",
        {
            "email": ("Email", "User Email"),
            "course": ("Course Code", "Course Internal ID"),
            "course_title": ("Course Name", "Course Title"),
            "due": ("Enrollment Deadline", "Enrollment Validity End Date", "Deadline"),
            "completed": ("Completion Date", "Course Completion Date"),
            "status": ("Status", "Enrollment Status", "User Course Status"),
            "name": ("Full Name",),
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "office": ("Branch Name", "Branch", "Branch Path"),
        },
    ),
    # TalentLMS: a custom report of type "Learning progress" (users and courses).
    "talentlms": Preset(
        "talentlms",
        {
            "email": ("Email", "E-mail"),
            "course": ("Course ID", "Course code"),
            "course_title": ("Course", "Course name"),
            "due": ("Expiration date", "Due date"),
            "completed": ("Completion date", "Completed on"),
            "status": ("Completion status", "Progress status", "Status"),
            "name": ("User", "Full name"),
            "first_name": ("First name",),
            "last_name": ("Last name",),
            "office": ("Branch", "Branch name"),
        },
    ),
    # SAP SuccessFactors Learning: an Item Status / Curriculum Status report (CSV).
    "sap_successfactors": Preset(
        "sap_successfactors",
        {
            "email": ("Email Address", "Email Address (User)", "Email"),
            "course": ("Item ID",),
            "course_title": ("Item Title", "Item Description"),
            "due": ("Required Date", "Item Required Date", "Required Date (Item)"),
            "completed": ("Completion Date", "Completion Date (Item)"),
            "status": ("Completion Status", "Completion Status ID", "Status"),
            "name": ("Full Name", "User Name"),
            "first_name": ("First Name", "First Name (User)"),
            "last_name": ("Last Name", "Last Name (User)"),
            "office": ("Organization", "Organization ID", "Job Location", "Location"),
        },
        completed=COMPLETED | {"course completed", "attended", "satisfied"},
        not_completed=NOT_COMPLETED | {"course incomplete", "not satisfied", "no show"},
    ),
}
