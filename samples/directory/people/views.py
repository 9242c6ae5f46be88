from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .models import Person


@require_safe
def index(request):
    """The "page load" request: a templated page that reads SQLite through the ORM."""
    people = list(Person.objects.all())
    departments = sorted({p.department for p in people})
    return render(
        request,
        "people/index.html",
        {"people": people, "departments": departments},
    )


@require_safe
def ping(request):
    """The "trivial" request: constant JSON, no database access."""
    return JsonResponse({"status": "ok"})


@require_safe
def people_json(request):
    """The directory as JSON, straight from the database."""
    qs = Person.objects.all()
    department = request.GET.get("department")
    if department:
        qs = qs.filter(department=department)
    return JsonResponse({"people": [p.as_dict() for p in qs]})


@require_safe
def health(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
