"""instdet dashboard: the entry file only routes."""

import streamlit as st

st.set_page_config(page_title="instdet", page_icon=":material/music_note:", layout="wide")

pages = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/dataset.py", url_path="dataset", title="Dataset", icon=":material/bar_chart:"),
    st.Page("views/models.py", url_path="models", title="Models", icon=":material/show_chart:"),
    st.Page("views/tracks.py", url_path="tracks", title="Tracks", icon=":material/view_timeline:"),
    st.Page("views/confusions.py", url_path="confusions", title="Confusions",
            icon=":material/compare_arrows:"),
    st.Page("views/postprocess.py", url_path="postprocess", title="Post-processing",
            icon=":material/tune:"),
    st.Page("views/realcase.py", url_path="realcase", title="Real case", icon=":material/headphones:"),
    st.Page("views/glossary.py", url_path="glossary", title="Glossary", icon=":material/menu_book:"),
]
st.navigation(pages).run()
