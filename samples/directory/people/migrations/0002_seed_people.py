"""Data migration: seed the directory with a handful of (fictional) people."""
from django.db import migrations

PEOPLE = [
    # name, title, department, office
    ("Ada Lindqvist", "Professor", "Computer Science", "CS 3.14"),
    ("Bruno Okafor", "Lecturer", "Computer Science", "CS 2.07"),
    ("Chiara Benedetti", "PhD Student", "Computer Science", "CS 1.22"),
    ("Dmitri Volkov", "Research Engineer", "Computer Science", "CS 1.05"),
    ("Elena Marquez", "Professor", "Mathematics", "MA 4.01"),
    ("Farid Haddad", "Senior Lecturer", "Mathematics", "MA 3.11"),
    ("Grace Nakamura", "Postdoc", "Mathematics", "MA 2.19"),
    ("Hannes Berger", "Professor", "Physics", "PH 5.02"),
    ("Ingrid Solberg", "Lab Manager", "Physics", "PH B.10"),
    ("Jamal Wright", "PhD Student", "Physics", "PH 2.33"),
    ("Keiko Tanaka", "Professor", "Chemistry", "CH 3.08"),
    ("Luca Romano", "Technician", "Chemistry", "CH 0.15"),
    ("Maya Patel", "Lecturer", "Biology", "BI 2.04"),
    ("Nils Johansson", "Professor", "Biology", "BI 4.12"),
    ("Olga Petrova", "Librarian", "Library", "LI 1.01"),
    ("Pedro Alves", "Systems Administrator", "IT Services", "IT 0.03"),
    ("Quinn O'Brien", "Service Desk Lead", "IT Services", "IT 0.01"),
    ("Rosa Lindgren", "Registrar", "Student Services", "AD 1.10"),
    ("Samuel Mensah", "Student Advisor", "Student Services", "AD 1.12"),
    ("Tara Singh", "Dean", "Faculty of Science", "AD 5.01"),
]


def email_for(name):
    first, last = name.lower().replace("'", "").split(" ", 1)
    return "%s.%s@campus.example" % (first, last.replace(" ", ""))


def seed(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    db = schema_editor.connection.alias
    Person.objects.using(db).bulk_create(
        Person(name=n, title=t, department=d, office=o, email=email_for(n))
        for n, t, d, o in PEOPLE
    )


def unseed(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    db = schema_editor.connection.alias
    Person.objects.using(db).filter(name__in=[p[0] for p in PEOPLE]).delete()


class Migration(migrations.Migration):

    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
