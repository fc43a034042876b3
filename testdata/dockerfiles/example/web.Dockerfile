# Hand-written baseline for the example `web` service: npm ci, vite build, nginx.
# Build context: testdata/example/frontend
#   docker buildx build -f testdata/dockerfiles/example/web.Dockerfile testdata/example/frontend

# Static output does not depend on the target platform: build on the build platform.
FROM --platform=$BUILDPLATFORM node:18 AS deps
WORKDIR /src
# Only the manifests: a code change does not re-run npm ci.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci

FROM deps AS build
COPY . .
RUN npm run build

FROM nginx:stable
# Run unprivileged: no `user` directive, pid and temp files under /tmp, listen on 8080.
RUN sed -i -e '/^user /d' -e 's#^pid .*#pid /tmp/nginx.pid;#' /etc/nginx/nginx.conf \
 && printf '%s\n' \
        'client_body_temp_path /tmp/client_temp;' \
        'proxy_temp_path /tmp/proxy_temp;' \
        'fastcgi_temp_path /tmp/fastcgi_temp;' \
        'uwsgi_temp_path /tmp/uwsgi_temp;' \
        'scgi_temp_path /tmp/scgi_temp;' \
        > /etc/nginx/conf.d/00-unprivileged.conf \
 && printf '%s\n' \
        'server {' \
        '    listen 8080;' \
        '    server_name _;' \
        '    root /usr/share/nginx/html;' \
        '    # SPA: unknown paths fall back to the app shell.' \
        '    location / {' \
        '        try_files $uri $uri/ /index.html;' \
        '    }' \
        '}' \
        > /etc/nginx/conf.d/default.conf \
 && rm -rf /usr/share/nginx/html/*
COPY --from=build /src/dist /usr/share/nginx/html
USER nginx
EXPOSE 8080
# No curl in the image: speak HTTP/1.0 over bash's /dev/tcp; healthy on a 2xx/3xx status line.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -Eq '^HTTP/1\\.[01] [23]'"]
CMD ["nginx", "-g", "daemon off;"]
