import "./style.css";

document.querySelector("#app").innerHTML = `<h1>Built with Node 24</h1>`;
