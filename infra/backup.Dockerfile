# The backup worker's image (`make package SERVICE=backup` assembles its build context in dist/backup/).
# No HEALTHCHECK: a queue worker has no port to probe; ECS replaces it when its process exits, and a message it
# leaves unfinished returns to the queue when its visibility timeout ends.
# checkov:skip=CKV_DOCKER_2: a queue worker with no port to probe (ECS replaces an exited task; its message returns to the queue)
FROM public.ecr.aws/docker/library/python:3.13-slim
# pg_dump / pg_restore and mysqldump for the databases the worker backs up.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client default-mysql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY shared ./shared
COPY services ./services
RUN useradd --system --uid 10001 worker
USER worker
CMD ["python", "-m", "services.backup"]
