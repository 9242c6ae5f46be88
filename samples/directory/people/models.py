from django.db import models


class Person(models.Model):
    """One entry of the campus directory."""

    name = models.CharField(max_length=100)
    title = models.CharField(max_length=100, blank=True)
    department = models.CharField(max_length=100, db_index=True)
    office = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["department", "name"]
        verbose_name_plural = "people"

    def __str__(self):
        return "%s (%s)" % (self.name, self.department)

    def as_dict(self):
        return {
            "id": self.pk,
            "name": self.name,
            "title": self.title,
            "department": self.department,
            "office": self.office,
            "email": self.email,
        }
