"""Course authoring: the student edition (``authoring.release``) and the site (``authoring.site``).

Authoring reads solutions/ and writes notebooks/ and _build/html; grading (the ``grading``
package) only reads students' submissions. The site's content files stay in book/.
"""
