import {h, mount} from "../dom.js";
export function render(main) { mount(main, h("section", {class: "page"}, h("h1", null, "host"))); }
